package mongodb

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// deskShapes are the dispatch desk's queries: the activities' lists,
// detail and statistics.
func deskShapes() []shape {
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	latest := bson.D{{Key: "starts_at", Value: -1}, {Key: "_id", Value: -1}}
	soonest := bson.D{{Key: "starts_at", Value: 1}, {Key: "_id", Value: 1}}
	return []shape{
		{name: "activities", collection: colActivities, filter: bson.M{}, sort: latest, index: ixActivitiesStartID},
		{name: "activities of a period", collection: colActivities, filter: bson.M{"starts_at": bson.M{"$gte": at}}, sort: latest, index: ixActivitiesStartID},
		{name: "a community's activities", collection: colActivities, filter: bson.M{"community": "c1"}, sort: latest, index: ixActivitiesCommunity},
		{name: "upcoming activities of communities", collection: colActivities, filter: bson.M{"community": bson.M{"$in": bson.A{"c1", "c2"}},
			"starts_at": bson.M{"$gt": at}, "ends_at": bson.M{"$gt": at}, "cancelled_at": live["cancelled_at"]}, sort: soonest,
			index: ixActivitiesCommunity, memorySort: true},
		{name: "activities of a kind", collection: colActivities, filter: bson.M{"kind": "theme"}, sort: latest, index: ixActivitiesKind},
		{name: "the period's live activities", collection: colActivities, filter: bson.M{"starts_at": bson.M{"$gte": at, "$lt": at.AddDate(0, 1, 0)},
			"cancelled_at": live["cancelled_at"]}, index: ixActivitiesStart},
		{name: "their check-ins", collection: colActivityCheckins, filter: bson.M{"activity_id": bson.M{"$in": bson.A{"a1", "a2"}}}, index: ixCheckinsActivity},
		{name: "addresses by prefix", collection: colAddresses, filter: bson.M{"name": bson.M{"$gte": "幸福", "$lt": "幸福\U0010FFFF"}},
			sort: bson.D{{Key: "name", Value: 1}}, index: ixAddressName},
		{name: "addresses by grams", collection: colAddresses, filter: bson.M{"grams": bson.M{"$all": bson.A{"幸福", "福路"}}}, index: ixAddressGrams},
		{name: "known addresses of an upload", collection: colAddresses, filter: bson.M{"name": bson.M{"$in": bson.A{"a", "b"}}}, index: ixAddressName},
		{name: "an activity's check-ins", collection: colActivityCheckins, filter: bson.M{"activity_id": "a1"},
			sort: bson.D{{Key: "at", Value: 1}}, index: ixCheckinsActivity},
	}
}
