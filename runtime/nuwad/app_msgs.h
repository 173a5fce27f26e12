/* What an app may send nuwad over its channel: one row per message type.
 * The door (door.c) reads every message against this table: a type not
 * here, a payload longer than MAX, or an app in a state not in STATES is
 * refused (counted as junk, the first few logged). What passes is cut to
 * KEEP bytes and cleaned as TEXT says (door.h), then HANDLER gets it.
 * messages.c binds the rows; tests/runtime/test_app_msgs.py checks
 * docs/protocol.md's table against this one.
 *
 * X(FIRST, LAST, NAME, MAX, KEEP, STATES, TEXT, HANDLER, DOC)
 */
#ifndef NUWAD_APP_MSGS_H
#define NUWAD_APP_MSGS_H

#include "nuwa.h"
#include "nuwa_app.h"
#include "nuwa_snapshot.h"

#define IN(s) (1u << (s))
#define IN_LIVE (IN(APP_STARTING) | IN(APP_RUNNING) | IN(APP_STOPPING))

#define NUWAD_APP_MSG_TABLE(X) \
	X(NUWA_APP_MSG_READY, NUWA_APP_MSG_READY, "ready", NUWA_MSG_MAX_PAYLOAD, 0, \
	  IN(APP_STARTING), DOOR_NONE, apps_on_ready, \
	  "the app is up: its launch is answered") \
	X(NUWA_APP_MSG_PHASES, NUWA_APP_MSG_PHASES, "phases", NUWA_MSG_MAX_PAYLOAD, \
	  NUWA_MSG_MAX_PAYLOAD, IN(APP_STARTING), DOOR_LINES, apps_on_phases, \
	  "the app host's launch marks, once, before ready (host-internal)") \
	X(NUWA_APP_MSG_ERROR, NUWA_APP_MSG_ERROR, "error", NUWA_MSG_MAX_PAYLOAD, 1024, \
	  IN_LIVE, DOOR_LINE, apps_on_error, \
	  "id 0 before ready: the app failed to start; else a request's failure") \
	X(NUWA_APP_MSG_PONG, NUWA_APP_MSG_PONG, "pong", NUWA_MSG_MAX_PAYLOAD, 0, \
	  IN(APP_RUNNING) | IN(APP_STOPPING), DOOR_NONE, requests_answer, \
	  "the answer to app-ping") \
	X(NUWA_APP_MSG_REPLY, NUWA_APP_MSG_REPLY, "reply", NUWA_MSG_MAX_PAYLOAD, \
	  NUWA_MSG_MAX_PAYLOAD, IN(APP_RUNNING) | IN(APP_STOPPING), DOOR_LINES, \
	  requests_answer, "the answer to call") \
	X(NUWA_APP_MSG_TRIMMED, NUWA_APP_MSG_TRIMMED, "trimmed", NUWA_MSG_MAX_PAYLOAD, 64, \
	  IN(APP_RUNNING) | IN(APP_STOPPING), DOOR_LINE, messages_on_trimmed, \
	  "the answer to trim (nuwactl's or the killer's): freed_kb=N") \
	X(NUWA_APP_MSG_CRASH, NUWA_APP_MSG_CRASH, "crash", NUWA_MSG_MAX_PAYLOAD, \
	  NUWA_MSG_MAX_PAYLOAD, IN_LIVE | IN(APP_SPARE), DOOR_LINES, crashes_on_report, \
	  "the crash handler's report, kept for the crash record") \
	X(NUWA_APP_MSG_GRANT_FIRST, NUWA_APP_MSG_GRANT_LAST, "grant", NUWA_MSG_MAX_PAYLOAD, 512, \
	  IN(APP_RUNNING) | IN(APP_STOPPING), DOOR_LINE, snapshots_on_app_msg, \
	  "snapshot answers (done: byte count; failed: reason); others are ignored")

#endif
