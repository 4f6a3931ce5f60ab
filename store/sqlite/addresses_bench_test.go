package sqlite

import (
	"fmt"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// BenchmarkAddressSearch: searches of an address book of 100,000 names —
// a road's name (prefix matches), a house number (trigrams), one character
// (grams) — as the hotline form sends them while the clerk types.
func BenchmarkAddressSearch(b *testing.B) {
	db, err := Open(b.Context(), b.TempDir(), Options{SkipIntegrityCheck: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	roads := []string{"幸福路", "龙江路", "凤凰西街", "清凉门大街", "虎踞路", "宁海路", "湖南路", "中央路", "挹江门街", "热河南路"}
	var book []model.Address
	for i := range 100_000 {
		book = append(book, model.Address{Name: fmt.Sprintf("%s%d号", roads[i%len(roads)], i/len(roads)+1), Kind: model.AddressDoor,
			Point: model.Point{Lat: 32 + float64(i%1000)/10000, Lng: 118.7 + float64(i/1000)/10000}})
	}
	start := time.Now()
	if _, err := db.Addresses().Upsert(b.Context(), book, time.Now()); err != nil {
		b.Fatal(err)
	}
	b.Logf("upload of %d addresses: %v", len(book), time.Since(start).Round(time.Millisecond))
	for _, q := range [][]string{{"幸福路"}, {"幸福路1234"}, {"1234号"}, {"凤"}} {
		b.Run(fmt.Sprint(q), func(b *testing.B) {
			for b.Loop() {
				got, err := db.Addresses().Search(b.Context(), q, 10)
				if err != nil || len(got) == 0 {
					b.Fatalf("%v: %d, %v", q, len(got), err)
				}
			}
		})
	}
}
