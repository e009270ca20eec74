"""Media: aiortc legs, prompt playback, DTMF, VAD, speech recognition (knows nothing of conversations)."""
