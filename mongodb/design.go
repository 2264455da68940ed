package mongodb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dotm-survey/dotm"
)

// The sampling design of a survey round. Each record is one document, so
// that writing it is atomic without transactions:
const (
	colPSUSamples       = "psu_samples"       // _id: survey
	colHouseholdSamples = "household_samples" // _id: survey + "/" + PSU id
	colWeights          = "weights"           // _id: survey; names the chunks of its current weights
	colWeightChunks     = "weight_chunks"     // _id: survey + "@" + generation + "#" + chunk number
)

// weightChunkSize is how many households one weights chunk holds: about
// 3 MB of BSON, well under MongoDB's 16 MB document limit, which a survey's
// weights in one document reached at about 100,000 households.
const weightChunkSize = 20_000

type psuDoc struct {
	PSU       string            `bson:"psu"`
	Stratum   string            `bson:"stratum"`
	Size      float64           `bson:"size"`
	Pi1       float64           `bson:"pi1"`
	Certainty bool              `bson:"certainty"`
	Extra     map[string]string `bson:"extra,omitempty"`
}

type stratumDoc struct {
	Stratum   string  `bson:"stratum"`
	FramePSUs int     `bson:"frame_psus"`
	Size      float64 `bson:"size"`
	Selected  int     `bson:"selected"`
}

type psuSampleDoc struct {
	Survey     string       `bson:"_id"`
	Allocation string       `bson:"allocation"`
	Seed       int64        `bson:"seed"` // BSON has no unsigned integers; the bits are kept
	Strata     []stratumDoc `bson:"strata"`
	PSUs       []psuDoc     `bson:"psus"`
	DrawnAt    time.Time    `bson:"drawn_at"`
	DrawnBy    string       `bson:"drawn_by"`
}

// PutPSUSample implements collector.DesignStore.
func (s *Store) PutPSUSample(ctx context.Context, ps dotm.PSUSample) error {
	d := psuSampleDoc{Survey: ps.Survey, Allocation: ps.Allocation, Seed: int64(ps.Seed), DrawnAt: ps.DrawnAt, DrawnBy: ps.DrawnBy}
	for _, st := range ps.Strata {
		d.Strata = append(d.Strata, stratumDoc(st))
	}
	for _, p := range ps.PSUs {
		d.PSUs = append(d.PSUs, psuDoc(p))
	}
	if _, err := s.collection(colPSUSamples).InsertOne(ctx, d); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return dotm.Errorf(dotm.ECONFLICT, "survey %s already has a PSU sample; a sample is drawn once", ps.Survey)
		}
		return unavailable(err, "store PSU sample")
	}
	return nil
}

// PSUSample implements collector.DesignStore.
func (s *Store) PSUSample(ctx context.Context, survey string) (dotm.PSUSample, error) {
	var d psuSampleDoc
	if err := s.collection(colPSUSamples).FindOne(ctx, bson.D{{Key: "_id", Value: survey}}).Decode(&d); err != nil {
		return dotm.PSUSample{}, notFound(err, "PSU sample of survey "+survey)
	}
	out := dotm.PSUSample{Survey: d.Survey, Allocation: d.Allocation, Seed: uint64(d.Seed), DrawnAt: d.DrawnAt, DrawnBy: d.DrawnBy}
	for _, st := range d.Strata {
		out.Strata = append(out.Strata, dotm.StratumFrame(st))
	}
	for _, p := range d.PSUs {
		out.PSUs = append(out.PSUs, dotm.SampledPSU(p))
	}
	return out, nil
}

type sampledHHDoc struct {
	HouseholdID string  `bson:"household_id"`
	Class       string  `bson:"class"`
	Pi2         float64 `bson:"pi2"`
	Listed      int     `bson:"listed"`
	Taken       int     `bson:"taken"`
	Selected    bool    `bson:"selected"`
}

type householdSampleDoc struct {
	ID         string         `bson:"_id"`
	Survey     string         `bson:"survey"`
	PSU        string         `bson:"psu"`
	Stratum    string         `bson:"stratum"`
	Quota      string         `bson:"quota"`
	Method     string         `bson:"method"`
	Seed       int64          `bson:"seed"`
	Households []sampledHHDoc `bson:"households"`
	DrawnAt    time.Time      `bson:"drawn_at"`
	// Selected counts the selected households by class, "class=n,…"
	// (classCounts), for the progress summary; absent in draws stored
	// before it.
	Selected string `bson:"selected_counts,omitempty"`
}

// PutHouseholdSample implements collector.DesignStore.
func (s *Store) PutHouseholdSample(ctx context.Context, hs dotm.HouseholdSample) error {
	d := householdSampleDoc{ID: hs.Survey + "/" + hs.PSU, Survey: hs.Survey, PSU: hs.PSU, Stratum: hs.Stratum, Quota: hs.Quota,
		Method: hs.Method, Seed: int64(hs.Seed), DrawnAt: hs.DrawnAt}
	n := map[string]int{}
	for _, h := range hs.Households {
		d.Households = append(d.Households, sampledHHDoc(h))
		if h.Selected {
			n[h.Class]++
		}
	}
	d.Selected = formatCounts(n)
	if _, err := s.collection(colHouseholdSamples).InsertOne(ctx, d); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return dotm.Errorf(dotm.ECONFLICT, "PSU %s of survey %s was already drawn", hs.PSU, hs.Survey)
		}
		return unavailable(err, "store household sample")
	}
	return nil
}

// HouseholdSamples implements collector.DesignStore.
func (s *Store) HouseholdSamples(ctx context.Context, survey string) ([]dotm.HouseholdSample, error) {
	cur, err := s.collection(colHouseholdSamples).Find(ctx, bson.D{{Key: "survey", Value: survey}}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, unavailable(err, "list household samples")
	}
	var docs []householdSampleDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, unavailable(err, "list household samples")
	}
	out := make([]dotm.HouseholdSample, len(docs))
	for i, d := range docs {
		out[i] = dotm.HouseholdSample{Survey: d.Survey, PSU: d.PSU, Stratum: d.Stratum, Quota: d.Quota, Method: d.Method, Seed: uint64(d.Seed), DrawnAt: d.DrawnAt}
		for _, h := range d.Households {
			out[i].Households = append(out[i].Households, dotm.SampledHousehold(h))
		}
	}
	return out, nil
}

type householdWeightDoc struct {
	HouseholdID string  `bson:"h"`
	PSU         string  `bson:"psu"`
	Stratum     string  `bson:"stratum"`
	Base        float64 `bson:"base"`
	Adjusted    float64 `bson:"adjusted"`
	Final       float64 `bson:"final"`
	Responded   bool    `bson:"responded"`
	FramePSUs   int     `bson:"frame_psus"`
	Calibrated  float64 `bson:"calibrated,omitempty"`
	Class       string  `bson:"class,omitempty"`
	Pi1         float64 `bson:"pi1,omitempty"`
	Pi2         float64 `bson:"pi2,omitempty"`
	Certainty   bool    `bson:"certainty,omitempty"`
}

// weightsDoc is the header of a survey's weights: how they were made and
// which generation of chunks holds the households. (Weights stored before
// chunking hold the households here, with no generation.)
type weightsDoc struct {
	Survey     string               `bson:"_id"`
	Generation string               `bson:"generation,omitempty"`
	Chunks     int                  `bson:"chunks"`
	Count      int                  `bson:"count"`
	Households []householdWeightDoc `bson:"households,omitempty"`
	Report     bson.Raw             `bson:"report"` // the report as extended JSON-compatible BSON
	ComputedAt time.Time            `bson:"computed_at"`
	ComputedBy string               `bson:"computed_by"`
}

// weightChunkDoc holds up to weightChunkSize households of one generation.
type weightChunkDoc struct {
	ID         string               `bson:"_id"`
	Survey     string               `bson:"survey"`
	Generation string               `bson:"generation"`
	N          int                  `bson:"n"`
	Households []householdWeightDoc `bson:"households"`
}

func weightChunkID(survey, gen string, n int) string {
	return survey + "@" + gen + "#" + strconv.Itoa(n)
}

// orphanAge is how old the chunks of a generation that no header names
// must be before PutWeights deletes them: older than any computation still
// writing its chunks.
const orphanAge = time.Hour

// PutWeights implements collector.WeightStore. The households go into
// chunks of a new generation first; then one write of the header makes
// them the survey's weights (so a reader sees the old weights or the new,
// never a mix, and a failure half-way leaves the old ones in place); then
// the previous generation's chunks are deleted by _id. The header is
// replaced only by the first computation to claim the generation read at
// the start (claims.go): of two computations racing, the later one deletes
// its own chunks and answers ECONFLICT instead of leaving either
// generation's chunks unreferenced.
// Chunks of an attempt that died before its header was written are
// deleted by a later PutWeights of the survey once they are older than
// orphanAge.
func (s *Store) PutWeights(ctx context.Context, w dotm.Weights) error {
	report, err := bson.Marshal(w.Report)
	if err != nil {
		return err
	}
	var old weightsDoc
	found := true
	if err := s.collection(colWeights).FindOne(ctx, bson.D{{Key: "_id", Value: w.Survey}},
		options.FindOne().SetProjection(bson.D{{Key: "generation", Value: 1}, {Key: "chunks", Value: 1}})).Decode(&old); err != nil {
		if !errors.Is(err, mongo.ErrNoDocuments) {
			return unavailable(err, "read weights of survey "+w.Survey)
		}
		found = false
	}
	if err := s.deleteOrphanChunks(ctx, w.Survey, old.Generation); err != nil {
		return err
	}
	size := s.weightChunk
	if size <= 0 {
		size = weightChunkSize
	}
	gen := bson.NewObjectID().Hex()
	var chunks []any
	for n := 0; n*size < len(w.Households); n++ {
		part := w.Households[n*size : min((n+1)*size, len(w.Households))]
		c := weightChunkDoc{ID: weightChunkID(w.Survey, gen, n), Survey: w.Survey, Generation: gen, N: n, Households: make([]householdWeightDoc, len(part))}
		for i, h := range part {
			c.Households[i] = householdWeightDoc(h)
		}
		chunks = append(chunks, c)
	}
	// One chunk per insert: a batch of them could pass the 48 MB message limit.
	for _, c := range chunks {
		if _, err := s.collection(colWeightChunks).InsertOne(ctx, c); err != nil {
			return unavailable(err, "store weights")
		}
	}
	d := weightsDoc{Survey: w.Survey, Generation: gen, Chunks: len(chunks), Count: len(w.Households), Report: report,
		ComputedAt: w.ComputedAt, ComputedBy: w.ComputedBy}
	prev := old.Generation
	if !found {
		prev = "none"
	} else if prev == "" {
		prev = "unchunked" // weights of earlier versions: one document, no generation
	}
	claimID := "weights/" + w.Survey + "@" + prev
	swapped, err := s.claim(ctx, claimID, gen)
	if err == nil && swapped {
		if _, err = s.collection(colWeights).ReplaceOne(ctx, bson.D{{Key: "_id", Value: w.Survey}}, d, options.Replace().SetUpsert(true)); err != nil {
			s.unclaim(ctx, claimID, gen)
		}
	}
	if err != nil {
		return unavailable(err, "store weights")
	}
	if !swapped {
		_ = s.deleteChunks(ctx, w.Survey, gen, len(chunks)) // best effort: deleteOrphanChunks gets what is left
		return dotm.Errorf(dotm.ECONFLICT, "the weights of survey %s were recomputed by someone else while these were computed; read them, or compute again", w.Survey)
	}
	if old.Generation != "" {
		if err := s.deleteChunks(ctx, w.Survey, old.Generation, old.Chunks); err != nil {
			return unavailable(err, "delete superseded weights")
		}
	}
	return nil
}

// deleteChunks deletes chunks 0..n-1 of a generation, by _id.
func (s *Store) deleteChunks(ctx context.Context, survey, gen string, n int) error {
	for i := range n {
		if _, err := s.collection(colWeightChunks).DeleteOne(ctx, bson.D{{Key: "_id", Value: weightChunkID(survey, gen, i)}}); err != nil {
			return err
		}
	}
	return nil
}

// deleteOrphanChunks deletes the survey's chunks of generations other than
// current that are older than orphanAge (a generation is an ObjectID, so
// it carries its creation time). It reads only the chunks' ids.
func (s *Store) deleteOrphanChunks(ctx context.Context, survey, current string) error {
	var ids []struct {
		ID         string `bson:"_id"`
		Generation string `bson:"generation"`
	}
	if err := s.findAll(ctx, colWeightChunks, bson.D{{Key: "survey", Value: survey}},
		options.Find().SetProjection(bson.D{{Key: "generation", Value: 1}}), &ids); err != nil {
		return unavailable(err, "read weights chunks of survey "+survey)
	}
	for _, c := range ids {
		if c.Generation == current {
			continue
		}
		oid, err := bson.ObjectIDFromHex(c.Generation)
		if err == nil && time.Since(oid.Timestamp()) < orphanAge {
			continue // perhaps a computation still writing its chunks
		}
		if _, err := s.collection(colWeightChunks).DeleteOne(ctx, bson.D{{Key: "_id", Value: c.ID}}); err != nil {
			return unavailable(err, "delete unreferenced weights chunks")
		}
	}
	return nil
}

// Weights implements collector.WeightStore.
func (s *Store) Weights(ctx context.Context, survey string) (dotm.Weights, error) {
	var d weightsDoc
	if err := s.collection(colWeights).FindOne(ctx, bson.D{{Key: "_id", Value: survey}}).Decode(&d); err != nil {
		return dotm.Weights{}, notFound(err, "weights of survey "+survey)
	}
	out := dotm.Weights{Survey: d.Survey, ComputedAt: d.ComputedAt, ComputedBy: d.ComputedBy}
	if err := bson.Unmarshal(d.Report, &out.Report); err != nil {
		return out, err
	}
	hh := d.Households
	if d.Generation != "" {
		hh = make([]householdWeightDoc, 0, d.Count)
		for n := range d.Chunks {
			var c weightChunkDoc
			id := weightChunkID(survey, d.Generation, n)
			if err := s.collection(colWeightChunks).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&c); err != nil {
				if errors.Is(err, mongo.ErrNoDocuments) {
					return out, fmt.Errorf("mongodb: weights of survey %s: chunk %s is missing", survey, id)
				}
				return out, unavailable(err, "read weights of survey "+survey)
			}
			hh = append(hh, c.Households...)
		}
		if len(hh) != d.Count {
			return out, fmt.Errorf("mongodb: weights of survey %s: %d households in the chunks, %d in the header", survey, len(hh), d.Count)
		}
	}
	for _, h := range hh {
		out.Households = append(out.Households, dotm.HouseholdWeight(h))
	}
	return out, nil
}

// ApprovedSubmissions implements collector.ApprovedSource, streaming the
// survey's approved submissions with their (unsealed-free) answers.
func (s *Store) ApprovedSubmissions(ctx context.Context, survey string, fn func(dotm.Submission) error) error {
	cur, err := s.collection(colSubmissions).Find(ctx, bson.D{{Key: "survey", Value: survey}, {Key: "status", Value: string(dotm.SubmissionApproved)}})
	if err != nil {
		return unavailable(err, "list approved submissions")
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d submissionDoc
		if err := cur.Decode(&d); err != nil {
			return err
		}
		sub, err := d.submission()
		if err != nil {
			return err
		}
		sub.Sealed = nil // identifiers never leave through this path
		if err := fn(sub); err != nil {
			return err
		}
	}
	return unavailable(cur.Err(), "list approved submissions")
}
