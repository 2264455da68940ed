// Package mongodb is dotm's only door to MongoDB.
//
// It is the one package that imports go.mongodb.org/mongo-driver/v2. It opens
// a connection to a MongoDB server named by a URI, or, when no URI is given,
// starts an embedded MongoDB-wire-compatible server (FerretDB v1.24.2 with its
// SQLite handler) in-process under a data directory. It implements the small
// storage interfaces that the other packages declare (collector.UserStore and
// so on), keeps its BSON structs private and converts to the callers' types,
// turning mongo.ErrNoDocuments into the caller's not-found error.
//
// What it respects, because the embedded server is measured to need it (see
// DESIGN.md): no transactions, no change streams, no TTL indexes, no pipelines
// with several accumulators; documents are keyed by a natural _id wherever
// they are looked up, idempotency comes from insert plus duplicate-key, and
// every write touches a single document.
//
// It is not for business rules: it stores and finds what it is given.
package mongodb
