package mongodb

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/citizen-city/chengguantong/model"
)

// Case numbers (案件编号) are YYYYMMDD-NNNN: the China Standard Time date of
// a ticket's intake and that day's sequence from 0001. Each day has a
// counter document, {_id: "YYYYMMDD", n}, taken with $inc. On MongoDB the
// $inc is atomic; on FerretDB it is not, so two writers may get one
// number — the unique index on tickets.case_no refuses the second ticket,
// which takes the next number (Insert, Load). Numbers are never reused; a
// submission refused as a duplicate leaves a gap.
const (
	colCaseCounters = "case_counters"
	// caseNoAttempts bounds an insert's tries at a number not taken (many
	// concurrent intakes on FerretDB may each lose a few times).
	caseNoAttempts = 64
)

// caseDay is the day of a case number: the date of at in China Standard
// Time.
func caseDay(at time.Time) string { return at.In(model.ChinaTime()).Format("20060102") }

// formatCaseNo is the case number of a day's n-th ticket.
func formatCaseNo(day string, n int64) string { return fmt.Sprintf("%s-%04d", day, n) }

// nextCaseNo takes n numbers of the day of at and returns the first.
func (s *Tickets) nextCaseNo(ctx context.Context, at time.Time, n int64) (string, error) {
	first, err := s.takeCaseNos(ctx, caseDay(at), n)
	if err != nil {
		return "", err
	}
	return formatCaseNo(caseDay(at), first), nil
}

// takeCaseNos takes n numbers of day and returns the first.
func (s *Tickets) takeCaseNos(ctx context.Context, day string, n int64) (int64, error) {
	var d struct {
		N int64 `bson:"n"`
	}
	opts := options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)
	for attempt := 0; ; attempt++ {
		err := s.counters.FindOneAndUpdate(ctx, bson.M{"_id": day}, bson.M{"$inc": bson.M{"n": n}}, opts).Decode(&d)
		if err == nil {
			return d.N - n + 1, nil
		}
		// Two first numbers of a day at once: one upsert inserts, the
		// other finds the _id taken and tries again.
		if !mongo.IsDuplicateKeyError(err) || attempt == 2 {
			return 0, fmt.Errorf("case number: %w", translate(err))
		}
	}
}
