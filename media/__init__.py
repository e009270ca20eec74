"""Media: aiortc legs, prompt playback, DTMF, VAD, speech recognition (knows nothing of conversations).

Modules (each one concept; none imports ``gateway`` or ``ivr``):

- ``audio``: the :class:`~media.audio.Audio` value (mono int16 + rate), resampling, levels.
- ``audiofile``: decode wav/mp3/ogg/opus/flac to ``Audio``; write/read 16-bit wav.
- ``tts``: offline text to speech (espeak-ng via ctypes) with a disk cache.
- ``player``: :class:`~media.player.PromptPlayer`, the paced outgoing track with barge-in.
- ``dtmf``: Goertzel tone detector, tone generator, RFC 4733 payloads and de-duplication.
- ``telephone_event``: negotiate and intercept RFC 4733 telephone-event on one aiortc connection.
- ``aiortc_patches``: opt-in, version-checked speed-ups of aiortc hot paths.
- ``direct_send``: an aiortc sender that also sends a relayed packet at once, from the receive path.
- ``loopback``: two in-process peers and a track recorder, for tests and benchmarks.
- ``opus``: prompts encoded to Opus once and sent as packets.
- ``asr``: streaming speech recognition (Vosk, pocketsphinx en-us default), VAD endpointing, model installer.
- ``event_loop``: the node's event loop: asyncio's, reading each UDP socket empty per wake-up.
- ``errors``: ``MediaError`` (``code`` + ``message``) and its subclasses.
"""
