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

from voice.ask_audio import SpeechRecognizer, judge
from voice.captions import CaptionDisplay
from voice.commands import Command
from voice.content import Faq, default_content_dir, load_content
from voice.dialogue import Dialogue, DialogueSettings
from voice.echo import DoubleTalkDetector, EchoReference, frame_levels
from voice.endpoint import EndpointSettings, assess
from voice.errors import DeviceError, RecognitionError, SpeechError
from voice.events import (
    DialogueAction,
    EndSession,
    Event,
    Heard,
    Key,
    KeyPressed,
    Listen,
    Say,
    Show,
    SpeechFinished,
    SpeechStarted,
    Started,
    StopSpeaking,
    Tick,
)
from voice.keys import PUSH_TO_TALK, KeyReader
from voice.kiosk_options import Activation, KioskSettings
from voice.match_result import Action, MatchResult
from voice.matching import Matcher
from voice.microphone import Microphone, parse_device
from voice.pcm import rms_dbfs
from voice.phrase_list import spoken_words
from voice.playback import Cue
from voice.recognition import Decoder, Partial
from voice.transcript import UNKNOWN_WORD, Transcript

log = logging.getLogger(__name__)

# How far back the microphone can be hearing the kiosk's own output: device buffers, the sound
# server and the room together (module-loopback alone measured 0.2–0.5 s here).
ECHO_WINDOW_S = 0.8
ECHO_TAIL_S = 0.35  # room reverberation and input latency after the last sample is played
RETRY_S = 2.0
# Silence that ends an utterance that is already a clear question or command. Longer than the
# 700 ms pauses older speakers make inside a sentence.
COMPLETE_SILENCE_S = 0.8


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
        self._file: TextIO | None = path.open("w", encoding="utf-8") if path else None

    def write(self, event: str, **fields: Any) -> None:
        """Append one event with a monotonic timestamp."""
        if self._file is not None:
            record = {"t": round(time.monotonic(), 4), "event": event, **fields}
            self._file.write(json.dumps(record) + "\n")
            self._file.flush()

    def close(self) -> None:
        """Close the file."""
        if self._file is not None:
            self._file.close()


class Kiosk:
    """One running kiosk: owns the devices, the decoder and the dialogue."""

    def __init__(self, settings: KioskSettings, faq: Faq) -> None:
        from voice.playback import Speaker
        from voice.speech import Pyttsx3Synthesizer

        self.settings = settings
        self.faq = faq
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
            complete_silence_s=min(COMPLETE_SILENCE_S, settings.end_silence_ms / 1000),
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
        # beside it so an answer needs both to agree (see voice.ask_audio.judge).
        phrases = self.recognizer.phrases
        if settings.activation is Activation.WAKE and phrases is not None:
            # The wake phrase must be in the phrase list, or the decoder can never hear it.
            phrases = (" ".join(spoken_words(settings.wake_phrase)), *phrases)
        self.decoder = Decoder(self.recognizer.model, phrases)
        self.open_decoder = Decoder(self.recognizer.model)
        self.utterance = _Utterance()
        self.speaking = _Speaking()
        self.echo_ref = EchoReference()
        self.double_talk = DoubleTalkDetector()
        self._talking_over = False
        self._queued_until = 0.0  # monotonic time the queued speech will have been played
        self._barged_in = False
        self.awake = settings.activation is Activation.ALWAYS
        self.stop_requested = threading.Event()
        self._was_playing = False
        self._last_tick = 0.0

    def _match_heard(self, text: str, confidence: float) -> MatchResult:
        """The dialogue's matcher: spoken questions are judged with their word confidences."""
        heard = self._last_transcript
        if heard is not None and heard.clean_text == text:
            return judge(self.matcher, heard, self._last_open)
        return self.matcher.match(text, confidence)

    # -- running ----------------------------------------------------------------------------

    def run(self) -> None:
        """Run until Ctrl-C, SIGTERM or ``stop_requested``."""
        if self.settings.keys:
            self.keys.start()
        try:
            self._open_microphone()
            self._prepare_speech()
            self._dispatch(Started(at=time.monotonic()))
            while not self.stop_requested.is_set():
                self._step()
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
                self.captions.status(f"{exc} Trying again in {RETRY_S:.0f} s.")
                log.info("%s", exc)
                self.stop_requested.wait(RETRY_S)

    def _prepare_speech(self) -> None:
        """Render the answers in the background so the first answer starts at once."""

        def render() -> None:
            rate = self.dialogue.rate_wpm
            from voice.sentences import split_sentences

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
            self.captions.status("The microphone stopped. Reconnecting.")
            self.status.write("microphone_lost")
            self.mic.close()
            self._open_microphone()
            return
        chunk = self.mic.read(timeout=0.1)
        if chunk is None:
            return
        try:
            partial = self.decoder.accept(chunk.pcm)
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
                self.speaker.play_cue(Cue.LISTENING, self.dialogue.volume * 0.6)
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

    def _own_words_in(self, text: str) -> list[str]:
        """Words that are not the kiosk's own speech, whether or not it is still speaking."""
        return [w for w in text.split() if w != UNKNOWN_WORD and w not in self.speaking.words]

    def _own_words(self, text: str) -> list[str]:
        """Words of the hypothesis that are not the kiosk's own speech."""
        words = [w for w in text.split() if w != UNKNOWN_WORD]
        if not self._in_echo_window():
            return words
        return [w for w in words if w not in self.speaking.words]

    def _on_partial(self, partial: Partial, captured_at: float) -> None:
        if self._in_echo_window():
            self._check_barge_in(partial.text)
            return
        if self.speaking.words:
            # The echo tail just ended: keep what was heard in it only if it is not our echo.
            heard_words = [w for w in partial.text.split() if w != UNKNOWN_WORD]
            if heard_words and not self._own_words_in(partial.text):
                # Only our echo was decoded; an empty hypothesis may be a patient's first
                # word still being decoded, so that audio is kept.
                self._reset_decoder("echo_tail")
                self.speaking = _Speaking()
                return
            self.speaking = _Speaking()
        words = [w for w in partial.text.split() if w != UNKNOWN_WORD]
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
            result = self.matcher.match(text)
            self.utterance.complete = result.action in (Action.ANSWER, Action.COMMAND)
            self.utterance.is_command = result.action is Action.COMMAND
        state = assess(
            text=text,
            stream_time_s=self.decoder.stream_time,
            segment_end_s=self.utterance.segment_end,
            first_word_s=self.utterance.first_word_at,
            complete=self.utterance.complete,
            is_command=self.utterance.is_command,
            settings=self.endpoint,
        )
        if state.ended:
            self._finish_utterance(captured_at - state.silence_s)

    def _check_barge_in(self, text: str) -> None:
        """Interrupt the kiosk for a spoken command, or when the patient talks over it.

        Words that belong to what the kiosk is saying are its own echo. A control phrase made of
        other words interrupts at once; other words interrupt only while the microphone is
        clearly louder than the echo of the kiosk's voice (double talk).
        """
        own = self._own_words(text)
        if not own:
            return
        command = self.matcher.classify_command(" ".join(own))
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
        self.speaking = _Speaking()
        self.echo_ref.clear()
        self._barged_in = True
        self._dispatch(SpeechStarted(at=time.monotonic()))
        if command is not None and command[0] is Command.STOP:
            # "Stop" acts at once. Anything else is the start of an utterance that is still
            # going on ("what …" may become "what is the success rate"): it is decoded to its
            # end and then handled like any other.
            self._reset_decoder("barge_in_command")
            self._dispatch(Heard(at=time.monotonic(), text=" ".join(own), confidence=1.0))

    def _finish_utterance(self, speech_end_wall: float) -> None:
        endpoint_at = time.monotonic()
        try:
            transcript = self.decoder.finish()
            self._last_open = self.open_decoder.finish()
        except RecognitionError as exc:
            log.warning("%s", exc)
            self._reset_decoder("recognizer_error")
            return
        final_at = time.monotonic()
        self.utterance = _Utterance()
        text = transcript.clean_text
        if self.settings.log_transcripts:
            log.info("heard: %s", text)
        if not self.awake:
            rest = self._after_wake_phrase(text)
            if rest is None:
                return
            self.awake = True
            self.status.write("wake")
            if not rest:
                self.speaker.play_cue(Cue.LISTENING, self.dialogue.volume * 0.6)
                return
            # "Hello kiosk, what is the success rate?": the question comes with the wake phrase.
            self._dispatch(Heard(at=time.monotonic(), text=rest, confidence=1.0))
            return
        self.status.write(
            "utterance",
            speech_end=round(speech_end_wall, 4),
            endpoint_wait_ms=round((endpoint_at - speech_end_wall) * 1000, 1),
            final_ms=round((final_at - endpoint_at) * 1000, 1),
            words=len(text.split()),
        )
        if not text:
            return
        self._last_transcript = transcript
        self._dispatch(
            Heard(at=time.monotonic(), text=text, confidence=transcript.confidence or 1.0)
        )
        if self.settings.activation is Activation.PUSH_TO_TALK:
            self.awake = False

    def _after_wake_phrase(self, text: str) -> str | None:
        """The words after the wake phrase, or None if it was not said."""
        wake = " ".join(spoken_words(self.settings.wake_phrase))
        heard = " ".join(spoken_words(text))
        if not wake or wake not in heard:
            return None
        return heard.split(wake, 1)[1].strip()

    def _reset_decoder(self, reason: str) -> None:
        self.status.write("decoder_reset", reason=reason, at_s=round(self.decoder.stream_time, 2))
        self.decoder.reset()
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
            self._say(action, event_at, decided_at)
        elif isinstance(action, StopSpeaking):
            self._stop_speaking()
            self.status.write("stop_speaking")
        elif isinstance(action, Listen):
            self.speaker.play_cue(Cue.LISTENING, self.dialogue.volume * 0.6)
        elif isinstance(action, EndSession):
            self.status.write("end_session")
            if self.settings.activation is Activation.WAKE:
                self.awake = False

    def _say(self, action: Say, event_at: float, decided_at: float) -> None:
        from voice.sentences import split_sentences

        self.speaking.words.update(spoken_words(action.text))
        first = True
        for sentence in split_sentences(action.text):
            try:
                audio = self.synth.synthesize(sentence, action.rate_wpm)
            except SpeechError as exc:
                # Captions already show the text; keep running without the voice.
                self.captions.status(f"Speech is not available: {exc}")
                log.warning("%s", exc)
                return
            # When this audio will reach the speaker: after everything already queued.
            starts_at = max(time.monotonic(), self._queued_until)
            self._queued_until = starts_at + audio.duration_s
            try:
                self.speaker.play(audio, action.volume)
            except DeviceError as exc:
                self.captions.status(f"The speaker is not available: {exc}")
                log.warning("%s", exc)
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

        if self.status._file is not None:
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
