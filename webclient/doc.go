// Package webclient is dotm's offline web client for enumerators, served by
// the collector at /collect/: a plain HTML, CSS and JavaScript app (no build
// step) that signs in with a token, lists the enumerator's assignments,
// draws the questionnaire from the same form definition the server
// validates with, keeps drafts and finished interviews in the browser's
// IndexedDB and sends them through a retrying queue when there is a network.
//
// The rules of the form (relevance, constraints, required, calculations,
// choice filters, repeat counts) are not written in JavaScript: package
// questionnaire is compiled to WebAssembly (static/questionnaire.wasm, built
// by build.sh from ./wasm) and the app calls questionnaire.Form.State, so
// the tablet and the server apply one implementation. The built file is
// committed; TestWasmUpToDate fails when it no longer matches the sources.
//
// Interviews hold identifiers, so their answers are stored encrypted: AES-GCM
// with a key derived by PBKDF2 (SHA-256) from a PIN the enumerator sets after
// signing in and enters each time the app opens; the key is kept in memory
// only, and IndexedDB holds the salt, a check value and ciphertext. Answers
// the server acknowledged are purged after a grace period. The home and
// unlock screens say how many interviews on the tablet are not sent yet.
//
// Problems are shown as a person reads them: the question's label with the
// roster member's name (questionnaire.Form.Describe), root causes first with
// the problems that follow from them folded under them. Answers the
// assignment gives (household id, and the PSU's region, urban, EA from the
// sampling frame) are filled in and locked.
//
// The package is not an API: it only serves files. The collector's routes
// mount Handler at Prefix; everything the app does goes through /api/v1.
package webclient
