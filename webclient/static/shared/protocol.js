// The wire protocol's limits and vocabulary, as in gateway/protocol.py (the one declaration; docs/protocol.md).
// Written by hand to the convention of the generated file that will replace it.

export const MAX_FRAME_BYTES = 16384;
export const MAX_TEXT_CHARS = 4000;
export const MAX_DRAFT_CHARS = 1000;
export const MAX_CLIENT_ID_CHARS = 64;
export const MAX_CONTEXT_KEYS = 20;
export const MAX_CONTEXT_VALUE_CHARS = 500;
export const MAX_SDP_CHARS = 12288;

export const ConversationState = Object.freeze({ OPEN: "open", QUEUED: "queued", ASSIGNED: "assigned", CLOSED: "closed" });
export const AgentStatus = Object.freeze({ OFFLINE: "offline", AVAILABLE: "available", AWAY: "away" });
export const Author = Object.freeze({ CUSTOMER: "customer", AGENT: "agent", BOT: "bot", SYSTEM: "system" });
export const EventType = Object.freeze({ OPENED: "opened", MESSAGE: "message", NOTE: "note", STATE: "state", ASSIGNED: "assigned", CLOSED: "closed", CONTEXT: "context", CALL_STARTED: "call_started", CALL_ENDED: "call_ended", IVR: "ivr", CHOICES: "choices", CALL_ANSWERED: "call_answered", CALL_MISSED: "call_missed", CALL_HELD: "call_held", CALL_RESUMED: "call_resumed", CALL_AGENT_LOST: "call_agent_lost", CALL_ABANDONED: "call_abandoned", CALL_CONSULT: "call_consult", CALL_MONITORED: "call_monitored", CALL_TRANSFERRED: "call_transferred", TRANSCRIPT: "transcript", RECORDING: "recording", CALLBACK: "callback", CALL_INVITE: "call_invite" });
export const CallStatus = Object.freeze({ CONNECTING: "connecting", RINGING: "ringing", IVR: "ivr", WAITING: "waiting", CONNECTED: "connected", ENDED: "ended" });
export const ClientFrame = Object.freeze({ HELLO: "hello", MESSAGE: "message", TYPING: "typing", NOTE: "note", STATUS: "status", OPEN: "open", CLOSE: "close", CALL_OFFER: "call_offer", DTMF: "dtmf", HANGUP: "hangup", CALL_DECLINE: "call_decline", CALL_HOLD: "call_hold", CALL_TRANSFER: "call_transfer", CALL_MONITOR: "call_monitor", CALL_CONSULT: "call_consult", CALL_INVITE: "call_invite", CALLBACK_OUTCOME: "callback_outcome", CALLBACK_CANCEL: "callback_cancel" });
export const ServerFrame = Object.freeze({ WELCOME: "welcome", EVENT: "event", ACK: "ack", TYPING: "typing", QUEUE: "queue", ERROR: "error", HISTORY: "history", AGENT: "agent", ASSIGNED: "assigned", UNASSIGNED: "unassigned", CALL_ANSWER: "call_answer", CALL_STATUS: "call_status" });
