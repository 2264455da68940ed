#!/bin/sh
# The field operation through the API: the survey manager sets up a survey,
# its form and team; an enumerator submits an interview; a supervisor
# approves it. Run it in an empty folder of the source tree's checkout or
# anywhere with SRC set: DOTM names the dotm binary (default: dotm), SRC the
# source tree (default: .), PORT the port to serve on (default 8080).
set -eu
DOTM=${DOTM:-dotm}
SRC=${SRC:-.}
PORT=${PORT:-8080}
API=http://127.0.0.1:$PORT/api/v1
FORM=$SRC/questionnaire/forms/dotm_household.yaml

# The survey manager.
$DOTM forms validate "$FORM"
$DOTM keys generate --out data.key                     # encrypts direct identifiers; keep it safe
$DOTM surveys create --id gh-2026 --country Ghana --language en --data-dir data
ADMIN=$($DOTM users add --name admin --role admin --data-dir data | tail -n 1)   # the token, shown once
$DOTM serve --data-dir data --key-file data.key --addr 127.0.0.1:$PORT 2>server.log &
SERVER=$!
trap 'kill $SERVER' EXIT
until curl -sf http://127.0.0.1:$PORT/readyz >/dev/null; do sleep 0.2; done
# as TOKEN [curl arguments]: one API call as that user (JSON unless said).
as() { who=$1; shift; curl -sSf -H "Authorization: Bearer $who" "$@"; echo; }
J='Content-Type: application/json'

as "$ADMIN" $API/me
as "$ADMIN" -H 'Content-Type: application/yaml' --data-binary @"$FORM" $API/surveys/gh-2026/forms
ENUM=$(as "$ADMIN" -H "$J" -d '{"name": "ama", "role": "enumerator", "surveys": ["gh-2026"]}' $API/users | sed 's/.*"token":"\([^"]*\)".*/\1/')
SUP=$(as "$ADMIN" -H "$J" -d '{"name": "kofi", "role": "supervisor", "surveys": ["gh-2026"]}' $API/users | sed 's/.*"token":"\([^"]*\)".*/\1/')
as "$ADMIN" -H "$J" -d '{"assignments": [{"id": "a-1", "enumerator": "ama", "household_id": "N-014-007"}]}' $API/surveys/gh-2026/assignments

# The enumerator (on a tablet, this is the web client at /collect/).
as "$ENUM" "$API/assignments?status=assigned"
sed '1a\  "assignment_id": "a-1",' "$SRC/questionnaire/testdata/household_valid.json" > interview.json
as "$ENUM" -H "$J" --data-binary @interview.json $API/submissions           # 201 Created
as "$ENUM" -H "$J" --data-binary @interview.json $API/submissions           # a retry: 200, stored once

# The supervisor.
as "$SUP" "$API/submissions?survey=gh-2026&status=received"
as "$SUP" -H "$J" -d '{"decision": "approve"}' $API/submissions/0b8f4a52-3c1e-4f7a-9d56-2f1b7c9e8a01/review
as "$ENUM" "$API/assignments?status=approved"
