#!/bin/sh
# Tell callerid about a call from any phone system that can run a command: a curl example.
#
#   CALLERID_URL=https://callerid.example.com CALLERID_TOKEN=cid_... \
#     sh callerid-event.sh EVENT CALL_ID [FROM] [TO] [ANSWERED_BY]
#
# EVENT is ringing, answered or ended; CALL_ID the phone system's id of the call. It posts one
# JSON event to POST /api/phone/events (docs/phone-systems.md), waits at most 2 s, prints
# callerid's answer and exits 0 when callerid took the event (22 when it refused it, curl's
# own status otherwise).
set -eu
event=$1 call_id=$2 from=${3:-} to=${4:-} answered_by=${5:-}

# JSON strings by hand (no jq needed): backslashes and double quotes escaped, control
# characters dropped.
quote() { printf '"%s"' "$(printf '%s' "$1" | tr -d '\000-\037' | sed 's/\\/\\\\/g; s/"/\\"/g')"; }

body=$(printf '{"event": %s, "call_id": %s, "from": %s, "to": %s, "answered_by": %s, "at": %s}' \
  "$(quote "$event")" "$(quote "$call_id")" "$(quote "$from")" "$(quote "$to")" \
  "$(quote "$answered_by")" "$(quote "$(date -u +%Y-%m-%dT%H:%M:%SZ)")")

exec curl --silent --show-error --fail-with-body --max-time 2 \
  -H "Authorization: Bearer ${CALLERID_TOKEN}" -H "Content-Type: application/json" \
  --data "$body" "${CALLERID_URL%/}/api/phone/events"
