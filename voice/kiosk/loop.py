"""The hands-free kiosk loop: microphone -> Vosk -> dialogue -> speech and captions.

The loop owns the audio edges; every decision is made by the pure ``Dialogue``. The kiosk must
never answer itself: while it speaks (and briefly after), words that belong to what it is saying
are treated as its own echo, and only other words can interrupt it (barge-in).
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from voice.audio.devices import parse_device
from voice.audio.levels import NoiseMeter
from voice.audio.microphone import Microphone
from voice.audio.pcm import rms_dbfs
from voice.audio.speaker import Cue
from voice.audio.speech_activity import SpeechActivity
from voice.content.loader import default_content_dir, load_content
from voice.content.schema import Faq
from voice.errors import DeviceError, RecognitionError, SpeechError, UsageError, VoiceError
from voice.hearing.decoder import Decoder, Partial
from voice.hearing.policy import judge
from voice.hearing.recognizer import SpeechRecognizer
from voice.hearing.transcript import UNKNOWN_WORD, Transcript
from voice.kiosk.captions import CaptionDisplay
from voice.kiosk.dialogue import Dialogue, DialogueSettings
from voice.kiosk.echo import (
    DoubleTalkDetector,
    EchoReference,
    frame_levels,
    open_without_echo,
    without_echo,
)
from voice.kiosk.endpoint import EndpointSettings, assess
from voice.kiosk.events import (
    DialogueAction,
    EndSession,
    Event,
    Heard,
    Key,
    KeyPressed,
    Listen,
    Say,
    SayKind,
    Show,
    SpeechFinished,
    SpeechStarted,
    Started,
    StopSpeaking,
    Tick,
)
from voice.kiosk.keys import PUSH_TO_TALK, KeyReader
from voice.kiosk.settings import Activation, KioskSettings
from voice.matching.commands import Command
from voice.matching.matcher import Matcher
from voice.matching.result import Action, MatchResult
from voice.text.normalize import spoken_words

log = logging.getLogger(__name__)

# How far back the microphone can be hearing the kiosk's own output: device buffers, the sound
# server and the room together (module-loopback alone measured 0.2–0.5 s here).
ECHO_WINDOW_S = 0.8
ECHO_TAIL_S = 0.35  # room reverberation and input latency after the last sample is played
# Over the kiosk's own voice the recogniser often loses the "s" of "stop" and hears "top". A
# short "top" heard while the kiosk talks is taken as "stop" (no answer says "top", so it is not
# the kiosk's echo).
STOP_OVER_ECHO = frozenset({"top"})
RETRY_S = 2.0


@dataclass
class _Utterance:
    """What has been heard since the last reset of the decoder."""

    text: str = ""
    first_word_at: float | None = None  # stream seconds
    segment_end: float | None = None  # end of the last word of a finished segment
    complete: bool = False  # the text so far is a confident answer or a command
    is_command: bool = False


@dataclass
class _Speaking:
    """What the kiosk is saying now, for echo filtering."""

    words: set[str] = field(default_factory=set)
    until: float = 0.0  # monotonic time after which echo can no longer arrive


class StatusLog:
    """Optional JSON-lines log of kiosk events for tests and benchmarks (no transcripts)."""

    def __init__(self, path: Path | None) -> None:
        self._lock = threading.Lock()
        try:
            self._file: TextIO | None = path.open("w", encoding="utf-8") if path else None
        except OSError as exc:
            raise UsageError(f"The status file {path} cannot be written ({exc}).") from exc

    @property
    def enabled(self) -> bool:
        """True when events are being written."""
        return self._file is not None

    def write(self, event: str, **fields: Any) -> None:
        """Write one event with a monotonic timestamp (safe from any thread, and after close)."""
        with self._lock:
            if self._file is not None:
                record = {"t": round(time.monotonic(), 4), "event": event, **fields}
                self._file.write(json.dumps(record) + "\n")
                self._file.flush()

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


class Kiosk:
    """One running kiosk: owns the devices, the decoder and the dialogue."""

    def __init__(self, settings: KioskSettings, faq: Faq) -> None:
        from voice.audio.speaker import Speaker
        from voice.speaking.synthesis import Pyttsx3Synthesizer

        self.settings = settings
        self.faq = faq
        if settings.log_transcripts:
            log.setLevel(logging.INFO)  # asked for explicitly: shown even without -v
        self.matcher = Matcher(faq)
        self.recognizer = SpeechRecognizer(faq, settings.model_path, decoding="phrases")
        self._last_transcript: Transcript | None = None
        self._last_open: Transcript | None = None
        self.dialogue = Dialogue(
            faq,
            self._match_heard,
            DialogueSettings(
                idle_timeout_s=settings.idle_timeout_s,
                default_rate_wpm=settings.rate_wpm,
                default_volume=settings.volume,
            ),
        )
        self.endpoint = EndpointSettings(
            complete_silence_s=settings.clear_silence_ms / 1000,
            unclear_silence_s=settings.unclear_silence_ms / 1000,
            incomplete_silence_s=settings.end_silence_ms / 1000,
            max_utterance_s=settings.max_question_s,
        )
        self.captions = CaptionDisplay(enabled=settings.captions)
        self.status = StatusLog(settings.status_file)
        self.synth = Pyttsx3Synthesizer()
        self.speaker = Speaker(parse_device(settings.output_device))
        self.mic = Microphone(parse_device(settings.input_device))
        self.keys = KeyReader()
        # The phrase-list decoder drives endpointing and matching; the open-vocabulary one runs
        # beside it as a second witness (see voice.hearing.policy.judge).
        phrases = self.recognizer.phrases
        if settings.activation is Activation.WAKE and phrases is not None:
            # The wake phrase must be in the phrase list, or the decoder can never hear it.
            phrases = (" ".join(spoken_words(settings.wake_phrase)), *phrases)
        self.decoder = Decoder(self.recognizer.model, phrases)
        self.open_decoder = Decoder(self.recognizer.model)
        self.activity = SpeechActivity()
        self.noise = NoiseMeter()
        self._last_level: float | None = None  # speech above background of the last question
        self.utterance = _Utterance()
        self.speaking = _Speaking()
        self.echo_ref = EchoReference()
        self.double_talk = DoubleTalkDetector()
        self._talking_over = False
        self._queued_until = 0.0  # monotonic time the queued speech will have been played
        self._barged_in = False
        self._barge_echo: tuple[float, set[str]] | None = None
        self.awake = settings.activation is Activation.ALWAYS
        self.stop_requested = threading.Event()
        self._was_playing = False
        self._last_tick = 0.0

    def _match_heard(self, text: str, confidence: float) -> MatchResult:
        """The dialogue's matcher: spoken questions are judged with their word confidences."""
        heard = self._last_transcript
        if heard is not None and heard.clean_text == text:
            return judge(
                self.matcher,
                heard,
                self._last_open,
                speech_to_background_db=self._last_level,
            )
        return self.matcher.match(text, confidence)

    # -- running ----------------------------------------------------------------------------

    def run(self) -> None:
        """Run until Ctrl-C, SIGTERM or ``stop_requested``."""
        if self.settings.keys:
            self.keys.start()
        try:
            self._open_microphone()
            if self.stop_requested.is_set():
                return
            self._prepare_speech()
            self._dispatch(Started(at=time.monotonic()))
            while not self.stop_requested.is_set():
                try:
                    self._step()
                except VoiceError as exc:
                    # A device or recognizer hiccup must not end the kiosk: note it, carry on.
                    log.warning("%s", exc)
                    self.stop_requested.wait(0.2)
        finally:
            self.keys.stop()
            self.speaker.stop()
            self.speaker.close()
            self.mic.close()
            self.status.close()

    def _open_microphone(self) -> None:
        while not self.stop_requested.is_set():
            try:
                self.mic.open()
                self.status.write("microphone_open")
                return
            except DeviceError as exc:
                log.warning("%s Trying again in %.0f s.", exc, RETRY_S)
                self.stop_requested.wait(RETRY_S)

    def _prepare_speech(self) -> None:
        """Render the answers in the background so the first answer starts at once."""

        def render() -> None:
            rate = self.dialogue.rate_wpm
            from voice.text.sentences import split_sentences

            for entry in self.faq.entries:
                if self.stop_requested.is_set():
                    return
                for sentence in split_sentences(entry.answer):
                    try:
                        self.synth.synthesize(sentence, rate)
                    except SpeechError:
                        return

        threading.Thread(target=render, name="tts-warmup", daemon=True).start()

    def _step(self) -> None:
        now = time.monotonic()
        if now - self._last_tick >= 1.0:
            self._last_tick = now
            self._dispatch(Tick(at=now))
        self._poll_keys()
        self._poll_speaker()
        if not self.mic.active:
            log.warning("The microphone stopped. Reconnecting.")
            self.status.write("microphone_lost")
            self.mic.close()
            self._open_microphone()
            return
        chunk = self.mic.read(timeout=0.1)
        if chunk is None:
            return
        try:
            partial = self.decoder.accept(chunk.pcm)
            # On the phrase-list decoder's stream clock; the noise meter takes the same levels.
            self.noise.add(self.activity.feed(chunk.pcm))
            self.open_decoder.accept(chunk.pcm)
        except RecognitionError as exc:
            log.warning("%s", exc)
            self._reset_decoder("recognizer_error")
            return
        self._track_echo(chunk.pcm, chunk.captured_at)
        self._on_partial(partial, chunk.captured_at)

    def _track_echo(self, pcm: bytes, captured_at: float) -> None:
        level = rms_dbfs(pcm)
        if self._in_echo_window():
            ref = self.echo_ref.level_near(captured_at, before_s=ECHO_WINDOW_S)
            self._talking_over = self.double_talk.frame(captured_at, level, ref)
            log.debug("echo t=%.3f mic=%.1f ref=%.1f", captured_at, level, ref)
        else:
            self.double_talk.listen_frame(level)
            self._talking_over = False

    def _poll_keys(self) -> None:
        while not self.keys.events.empty():
            key = self.keys.events.get_nowait()
            if key == PUSH_TO_TALK:
                self.awake = True
                self._stop_speaking()
                self._reset_decoder("push_to_talk")
                self._cue()
                continue
            assert isinstance(key, Key)
            self._dispatch(KeyPressed(at=time.monotonic(), key=key))

    def _poll_speaker(self) -> None:
        playing = self.speaker.is_playing()
        if self._was_playing and not playing:
            self.status.write("speech_finished")
            if self._barged_in:
                # The patient is talking: keep what they have said so far.
                self._barged_in = False
            else:
                # What was decoded while the kiosk spoke is its own voice: drop it now, so that
                # a patient who starts right after the kiosk stops keeps their first words.
                self._reset_decoder("speech_finished")
                self.speaking.until = time.monotonic() + ECHO_TAIL_S
            self._dispatch(SpeechFinished(at=time.monotonic()))
        self._was_playing = playing

    # -- hearing ----------------------------------------------------------------------------

    def _in_echo_window(self) -> bool:
        return self.speaker.is_playing() or time.monotonic() < self.speaking.until

    def _own_words(self, words: list[str]) -> list[str]:
        """Heard words that are not part of what the kiosk is (or was just) saying."""
        return [w for w in words if w not in self.speaking.words]

    def _on_partial(self, partial: Partial, captured_at: float) -> None:
        words = [w for w in partial.text.split() if w != UNKNOWN_WORD]
        if self._in_echo_window():
            self._check_barge_in(words)
            return
        if self.speaking.words:
            # The echo tail just ended: keep what was heard in it only if it is not our echo.
            if words and not self._own_words(words):
                # Only our echo was decoded; an empty hypothesis may be a patient's first
                # word still being decoded, so that audio is kept.
                self._reset_decoder("echo_tail")
                self.speaking = _Speaking()
                return
            self.speaking = _Speaking()
        if words and self.utterance.first_word_at is None:
            self.utterance.first_word_at = self.decoder.stream_time
            self.status.write("speech_start")
        if partial.in_speech:
            self.utterance.segment_end = None  # still talking
        elif partial.segment_ended and words:
            self.utterance.segment_end = partial.last_word_end
        if not words:
            if self.decoder.stream_time > 30.0:
                self._reset_decoder("idle_audio")  # long silence or noise: keep the decoder small
            return
        text = " ".join(words)
        if text != self.utterance.text:
            self.utterance.text = text
            result = self.matcher.match(text, heard=True)
            self.utterance.complete = result.action in (Action.ANSWER, Action.COMMAND)
            self.utterance.is_command = result.action is Action.COMMAND
        state = assess(
            text=text,
            stream_time_s=self.decoder.stream_time,
            segment_end_s=self.utterance.segment_end,
            first_word_s=self.utterance.first_word_at,
            complete=self.utterance.complete,
            is_command=self.utterance.is_command,
            sound=self.activity.runs,
            settings=self.endpoint,
        )
        if state.ended:
            self._finish_utterance(captured_at - state.silence_s, state.needed_s)

    def _check_barge_in(self, words: list[str]) -> None:
        """Interrupt the kiosk for a spoken command, or when the patient talks over it.

        Words that belong to what the kiosk is saying are its own echo. A control phrase made of
        other words interrupts at once; other words interrupt only while the microphone is
        clearly louder than the echo of the kiosk's voice (double talk).
        """
        own = self._own_words(words)
        if not own:
            return
        command = self.matcher.classify_command(" ".join(own))
        if command is None and len(own) <= 2 and STOP_OVER_ECHO.intersection(own):
            command = (Command.STOP, 100.0)
        if command is None and not self._talking_over:
            return
        self.status.write(
            "barge_in",
            command=command[0].value if command else None,
            words=len(own),
            talking_over=self._talking_over,
            echo_gain_db=round(self.double_talk.echo_gain_db, 1),
        )
        if self.settings.log_transcripts:
            log.info("barge-in on: %s", " ".join(own))
        self._stop_speaking()
        # Whatever the words turn out to be ("stop" is sometimes heard as "top" over the echo),
        # the kiosk has stopped talking.
        self.status.write("stop_speaking", cause="barge_in")
        # The hypothesis so far also holds our own echo: remember what and until when, so the
        # finished utterance can drop it (see voice.kiosk.echo.without_echo).
        self._barge_echo = (self.decoder.stream_time, set(self.speaking.words))
        self.speaking = _Speaking()
        self.echo_ref.clear()
        self._barged_in = True
        self._dispatch(SpeechStarted(at=time.monotonic()))
        if command is not None and command[0] is Command.STOP:
            # "Stop" acts at once. Anything else is the start of an utterance that is still
            # going on ("what …" may become "what is the success rate"): it is decoded to its
            # end and then handled like any other.
            self._reset_decoder("barge_in_command")
            self._dispatch(Heard(at=time.monotonic(), text="stop", confidence=1.0))

    def _finish_utterance(self, speech_end_wall: float, needed_s: float) -> None:
        try:
            self._handle_utterance(speech_end_wall, needed_s)
        finally:
            # Its next recognizer is made on the next chunk, after the reply has started.
            self.open_decoder.reset()

    def _handle_utterance(self, speech_end_wall: float, needed_s: float) -> None:
        endpoint_at = time.monotonic()
        try:
            transcript = self.decoder.finish()
            self.activity.reset()
            self._last_level = self.noise.speech_to_background_db()
            self.noise.reset()
            # The open decoder's running hypothesis is enough for the support check, and
            # skips its final lattice pass (about 90 ms here) before the kiosk can answer. Its
            # word confidences come with it when its own segment has already closed.
            self._last_open = self.open_decoder.so_far()
        except RecognitionError as exc:
            log.warning("%s", exc)
            self._reset_decoder("recognizer_error")
            return
        final_at = time.monotonic()
        self.utterance = _Utterance()
        if self._barge_echo is not None:
            transcript = without_echo(transcript, *self._barge_echo)
            # The open hypothesis has no word times: every word the kiosk was saying goes, so
            # its echo neither supports an answer nor names "another subject" from the
            # kiosk's own answer ("flu", "chemotherapy").
            self._last_open = open_without_echo(self._last_open, self._barge_echo[1])
            self._barge_echo = None
        text = transcript.clean_text
        if self.settings.log_transcripts:
            log.info("heard: %s", text)
        if not self.awake:
            if self.settings.activation is not Activation.WAKE:
                return  # push-to-talk: only the key opens the microphone
            rest = self._after_wake_phrase(transcript)
            if rest is None:
                return
            self.awake = True
            self.status.write("wake")
            if not rest.clean_text:
                self._cue()
                return
            # "Hello kiosk, what is the success rate?": the question comes with the wake phrase.
            transcript, text = rest, rest.clean_text
        self.status.write(
            "utterance",
            speech_end=round(speech_end_wall, 4),
            endpoint_wait_ms=round((endpoint_at - speech_end_wall) * 1000, 1),
            final_ms=round((final_at - endpoint_at) * 1000, 1),
            silence_needed_ms=round(needed_s * 1000),
            words=len(text.split()),
        )
        if not text:
            return
        self._last_transcript = transcript
        confidence = transcript.confidence
        self._dispatch(
            Heard(
                at=time.monotonic(), text=text, confidence=1.0 if confidence is None else confidence
            )
        )
        if self.settings.activation is Activation.PUSH_TO_TALK:
            self.awake = False

    def _after_wake_phrase(self, transcript: Transcript) -> Transcript | None:
        """What was said after the wake phrase, or None if it was not said."""
        wake = spoken_words(self.settings.wake_phrase)
        words = [w for w in transcript.words if w.word != UNKNOWN_WORD]
        for i in range(len(words) - len(wake) + 1):
            if wake and [w.word for w in words[i : i + len(wake)]] == wake:
                rest = tuple(words[i + len(wake) :])
                return Transcript(
                    " ".join(w.word for w in rest), rest, transcript.audio_s, transcript.decode_ms
                )
        return None

    def _reset_decoder(self, reason: str) -> None:
        self.status.write("decoder_reset", reason=reason, at_s=round(self.decoder.stream_time, 2))
        self.decoder.reset()
        self.activity.reset()
        self.noise.reset()
        self.open_decoder.reset()
        self.utterance = _Utterance()

    # -- acting -----------------------------------------------------------------------------

    def _dispatch(self, event: Event) -> None:
        started = time.monotonic()
        actions = self.dialogue.handle(event)
        decided = time.monotonic()
        for action in actions:
            self._perform(action, event_at=started, decided_at=decided)

    def _perform(self, action: DialogueAction, event_at: float, decided_at: float) -> None:
        if isinstance(action, Show):
            self.captions.show(action.caption)
        elif isinstance(action, Say):
            if action.kind is SayKind.GREETING:
                # A greeting starts a new patient's session: a fresh screen, and in wake-phrase
                # mode the kiosk waits to be called again.
                self.captions.clear()
                if self.settings.activation is Activation.WAKE:
                    self.awake = False
            self._say(action, event_at, decided_at)
        elif isinstance(action, StopSpeaking):
            self._stop_speaking()
            self.status.write("stop_speaking")
        elif isinstance(action, Listen):
            self._cue()
        elif isinstance(action, EndSession):
            self.status.write("end_session")
            if self.settings.activation is Activation.WAKE:
                self.awake = False

    def _say(self, action: Say, event_at: float, decided_at: float) -> None:
        from voice.text.sentences import split_sentences

        self.speaking.words.update(spoken_words(action.text))
        first = True
        for sentence in split_sentences(action.text):
            try:
                audio = self.synth.synthesize(sentence, action.rate_wpm)
            except SpeechError as exc:
                # Captions already show the text; keep running without the voice.
                log.warning("Speech is not available: %s", exc)
                return
            # When this audio will reach the speaker: after everything already queued.
            starts_at = max(time.monotonic(), self._queued_until)
            self._queued_until = starts_at + audio.duration_s
            try:
                self.speaker.play(audio, action.volume)
            except DeviceError as exc:
                log.warning("The speaker is not available: %s", exc)
                return
            levels = frame_levels(audio.samples, audio.sample_rate, action.volume)
            self.echo_ref.add(starts_at, levels)
            if first:
                self.status.write(
                    "say",
                    kind=action.kind.value,
                    match_ms=round((decided_at - event_at) * 1000, 2),
                    synth_ms=round((time.monotonic() - decided_at) * 1000, 1),
                    rate=action.rate_wpm,
                    volume=action.volume,
                )
                first = False
                self._report_first_audio()
        self.speaking.until = self._queued_until + ECHO_TAIL_S
        self._was_playing = True

    def _cue(self) -> None:
        """The short "listening now" sound; the kiosk works without it."""
        try:
            self.speaker.play_cue(Cue.LISTENING, self.dialogue.volume * 0.6)
        except DeviceError as exc:
            log.warning("%s", exc)

    def _stop_speaking(self) -> None:
        self.speaker.stop()
        self._queued_until = 0.0

    def _report_first_audio(self) -> None:
        def wait_first() -> None:
            deadline = time.monotonic() + 3.0
            while time.monotonic() < deadline:
                first = self.speaker.first_audio_time
                if first is not None:
                    self.status.write("first_audio", at=round(first, 4))
                    return
                time.sleep(0.005)

        if self.status.enabled:
            threading.Thread(target=wait_first, daemon=True).start()


def run_kiosk(settings: KioskSettings) -> int:
    """Run the kiosk until stopped; returns the exit status."""
    faq = load_content(settings.content_dir or default_content_dir())
    kiosk = Kiosk(settings, faq)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        kiosk.stop_requested.set()

    signal.signal(signal.SIGTERM, on_signal)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is the normal way to stop
        kiosk.run()
    return 0
