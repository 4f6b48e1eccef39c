"""The hands-free kiosk loop: microphone -> Vosk -> dialogue -> speech and captions.

The loop owns the audio edges and wires them together; the decisions are pure: what to answer
in ``Dialogue``, who has the turn (echo, barge-in, end of utterance) in ``Turns``, and whether
an utterance is for the kiosk at all in the activation mode.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from types import FrameType

from voice.audio.devices import parse_device
from voice.audio.echo_cancel import (
    EchoCancelDevices,
    own_output_capture,
    start_echo_cancel,
    stop_echo_cancel,
    use_in_this_process,
)
from voice.audio.levels import NoiseMeter, rms_dbfs
from voice.audio.microphone import Microphone
from voice.audio.speaker import Cue
from voice.audio.speech_activity import SpeechActivity
from voice.content.loader import default_content_dir, load_content
from voice.content.schema import Faq
from voice.errors import DeviceError, RecognitionError, SpeechError, VoiceError
from voice.hearing.decoder import Decoder, Partial
from voice.hearing.grammar import Expecting, choose_short
from voice.hearing.model import locate_model
from voice.hearing.policy import judge
from voice.hearing.recognizer import SpeechRecognizer
from voice.hearing.transcript import Transcript
from voice.hearing.vocabulary import load_vocabulary
from voice.kiosk.activation import UtteranceDecision, activation_mode
from voice.kiosk.captions import CaptionDisplay, logs_off_screen
from voice.kiosk.dialogue import Dialogue
from voice.kiosk.echo import frame_levels
from voice.kiosk.events import (
    ClearScreen,
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
from voice.kiosk.health import Health, Log, Part, write_health_file
from voice.kiosk.keys import PUSH_TO_TALK, KeyReader
from voice.kiosk.settings import EchoCancel, KioskSettings
from voice.kiosk.short_answers import ShortAnswerDecoder
from voice.kiosk.status import StatusLog
from voice.kiosk.turns import (
    AnswerHeld,
    BargeIn,
    ContinueQuestion,
    ResetDecoder,
    SpeechStart,
    Turns,
    UtteranceEnded,
)
from voice.matching.commands import Command, command_phrases
from voice.matching.matcher import Matcher
from voice.matching.result import Action, MatchResult
from voice.text.normalize import spoken_words

log = logging.getLogger(__name__)

RETRY_S = 2.0
# How often the kiosk checks that it is not recording its own speaker (PulseAudio moves a
# stream to another device, a monitor included, when its microphone is unplugged).
CAPTURE_CHECK_S = 2.0


class Kiosk:
    """One running kiosk: owns the devices and the decoders, and wires them to the decisions."""

    def __init__(self, settings: KioskSettings, faq: Faq) -> None:
        from voice.audio.speaker import Speaker
        from voice.speaking.prerender import open_speech

        self.settings = settings
        self.faq = faq
        if settings.log_transcripts:
            log.setLevel(logging.INFO)  # asked for explicitly: shown even without -v
        self.matcher = Matcher(faq)
        self.recognizer = SpeechRecognizer(faq, settings.model_path, decoding="phrases")
        self._last_transcript: Transcript | None = None
        self._last_open: Transcript | None = None
        self._last_result: MatchResult | None = None  # what the dialogue made of the last words
        self._reply_at: float | None = None  # when the first audio of the latest Say plays
        self.dialogue = Dialogue(faq, self._match_heard, settings.dialogue())
        self.activation = activation_mode(settings.activation, settings.wake_phrase)
        self.turns = Turns(
            lambda text: self.matcher.match(text, heard=True),
            self.matcher.classify_command,
            settings.endpoint(),
            stop_over_echo=self.matcher.language.stop_over_echo,
        )
        self.captions = CaptionDisplay(enabled=settings.captions, style=settings.caption_style)
        self.status = StatusLog(settings.status_file)
        self.health = Health()
        self._health_written = 0.0
        self.synth = open_speech(settings.voice, faq.pronunciations)
        self.speaker = Speaker(parse_device(settings.output_device))
        self.mic = Microphone(parse_device(settings.input_device))
        self.keys = KeyReader()
        # The phrase-list decoder drives endpointing and matching; the open-vocabulary one runs
        # beside it as a second witness (see voice.hearing.policy.judge).
        self.decoder = Decoder(
            self.recognizer.model,
            self.activation.decoder_phrases(self.recognizer.phrases),
            background=True,
        )
        self.open_decoder = Decoder(self.recognizer.model, background=True)
        # The third: yes/no and the commands only, for short answers (voice.hearing.grammar).
        self.short_decoder = ShortAnswerDecoder(
            self.recognizer.model,
            command_phrases(self.matcher.language),
            load_vocabulary(locate_model(settings.model_path)),
            background=True,
        )
        self.activity = SpeechActivity()
        self.noise = NoiseMeter()
        self._last_level: float | None = None  # speech above background of the last question
        self.stop_requested = threading.Event()
        self._last_tick = 0.0
        self._own_output: str | None = None  # set by the capture watcher
        self._deaf = False  # not listening: the microphone is the kiosk's own output
        self._echo_cancel: EchoCancelDevices | None = None

    def _command_in(self, text: str) -> Command | None:
        """The control phrase this whole text is, if any."""
        found = self.matcher.classify_command(text)
        return None if found is None else found[0]

    def _match_heard(self, text: str, confidence: float) -> MatchResult:
        """The dialogue's matcher: spoken questions are judged with their word confidences."""
        heard = self._last_transcript
        if heard is not None and heard.clean_text == text:
            result = judge(
                self.matcher,
                heard,
                self._last_open,
                speech_to_background_db=self._last_level,
            )
        else:
            result = self.matcher.match(text, confidence)
        self._last_result = result
        return result

    # -- running ----------------------------------------------------------------------------

    def run(self) -> None:
        """Run until Ctrl-C, SIGTERM or ``stop_requested``."""
        if self.settings.keys:
            self.keys.start()
        try:
            self._start_echo_cancel()
            self._open_microphone()
            if self.stop_requested.is_set():
                return
            self._watch_capture()
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
            self.synth.close()  # a renderer child still at work ends with the kiosk
            self.mic.close()
            self._stop_echo_cancel()
            self.status.close()

    def _start_echo_cancel(self) -> None:
        """Record from and play into the sound server's echo canceller, when it is wanted.

        'auto' (the default) uses it wherever the sound server can load it and falls back to the
        echo gate alone otherwise; the gate stays on as a second line either way.
        """
        mode = self.settings.echo_cancel
        if mode is EchoCancel.OFF:
            log.info("Echo cancellation is off (--echo-cancel off): the echo gate alone.")
            self.status.write("echo_cancel", on=False)
            return
        if mode is EchoCancel.AUTO and (self.settings.input_device or self.settings.output_device):
            log.warning(
                "Echo cancellation is off: devices were chosen with --input-device or "
                "--output-device (it works on the default ones). The echo gate alone keeps the "
                "kiosk from answering itself."
            )
            self.status.write("echo_cancel", on=False)
            return
        told = False
        while not self.stop_requested.is_set():
            try:
                devices = start_echo_cancel()
            except DeviceError as exc:
                if mode is EchoCancel.AUTO:
                    log.warning(
                        "Echo cancellation is off (%s). The echo gate alone keeps the kiosk from "
                        "answering itself; a spoken 'stop' may be missed in a loud room.",
                        str(exc).rstrip("."),
                    )
                    self.status.write("echo_cancel", on=False)
                    return
                if not told:
                    log.warning("%s The kiosk keeps trying.", exc)
                    told = True
                self.stop_requested.wait(RETRY_S)
                continue
            use_in_this_process(devices)
            self._echo_cancel = devices
            log.info(
                "Echo cancellation is on: the sound server's WebRTC canceller filters microphone "
                "%s against speaker %s (%s); the echo gate stays as a second line.",
                devices.microphone,
                devices.speaker,
                "loaded" if devices.module is not None else "already running",
            )
            self.status.write("echo_cancel", on=True, source=devices.source)
            return

    def _stop_echo_cancel(self) -> None:
        devices, self._echo_cancel = self._echo_cancel, None
        if devices is None:
            return
        try:
            stop_echo_cancel(devices)
        except DeviceError as exc:
            log.debug("unloading the echo canceller: %s", exc)

    def _open_microphone(self) -> None:
        while not self.stop_requested.is_set():
            try:
                self.mic.open()
                self.status.write("microphone_open")
                self._report_health(Part.MICROPHONE, True)
                return
            except DeviceError as exc:
                # One clear sentence, then quiet retries (and a rare reminder) until it appears.
                self._report_health(Part.MICROPHONE, False, f"{exc} The kiosk keeps trying.")
                self.stop_requested.wait(RETRY_S)

    def _report_health(self, part: Part, ok: bool, detail: str = "") -> None:
        """Log a part's state once when it changes (and rarely while it stays broken), show
        "not listening" on the screen, and keep the health file up to date."""
        now = time.monotonic()
        decision = self.health.report(part, ok, now, detail)
        if decision is Log.FAILING:
            log.warning("%s", detail)
        elif decision is Log.REMINDER:
            log.warning("Still not working: %s", detail)
        elif decision is Log.RECOVERED:
            log.warning("The %s is working again.", part.value)
        if decision is not Log.NOTHING:
            self.status.write("health", part=part.value, ok=ok)
            if part is Part.MICROPHONE:
                self.captions.status(
                    "Listening." if ok else "Not listening: the microphone is not working. "
                    "Please ask a member of staff."
                )
        if decision in (Log.FAILING, Log.RECOVERED) or now - self._health_written >= 30:
            self._write_health(now)

    def _write_health(self, now: float) -> None:
        path = self.settings.health_file
        self._health_written = now
        if path is None:
            return
        try:
            write_health_file(path, self.health.line(now, time.time()))
        except OSError as exc:
            log.debug("health file %s: %s", path, exc)

    def _watch_capture(self) -> None:
        """Check now and then, in the background, that the microphone is not our own output."""

        def watch() -> None:
            while not self.stop_requested.wait(CAPTURE_CHECK_S):
                try:
                    self._own_output = own_output_capture()
                except DeviceError as exc:
                    log.debug("capture check: %s", exc)

        threading.Thread(target=watch, name="capture-watch", daemon=True).start()

    def _prepare_speech(self) -> None:
        """Render every content line in the background so the first answer starts at once."""
        from voice.speaking.prerender import content_lines

        self.synth.prepare(content_lines(self.faq), self.dialogue.rate_wpm, self.stop_requested)

    def _step(self) -> None:
        now = time.monotonic()
        if now - self._last_tick >= 1.0:
            self._last_tick = now
            self._dispatch(Tick(at=now))
            if now - self._health_written >= 30:
                self._write_health(now)
        self._poll_keys()
        self._poll_speaker()
        if not self.mic.active:
            self._report_health(Part.MICROPHONE, False, "The microphone stopped. Reconnecting.")
            self.status.write("microphone_lost")
            self.mic.close()
            self._open_microphone()
            return
        chunk = self.mic.read(timeout=0.1)
        if chunk is None or self._hearing_own_output():
            return
        try:
            partial = self.decoder.accept(chunk.pcm)
            # On the phrase-list decoder's stream clock; the noise meter takes the same levels.
            self.noise.add(self.activity.feed(chunk.pcm))
            self.open_decoder.accept(chunk.pcm)
            short_heard = self.short_decoder.accept(chunk.pcm)
        except RecognitionError as exc:
            log.warning("%s", exc)
            self._reset_decoder("recognizer_error")
            return
        echo = self.turns.in_echo_window(self.speaker.is_playing(), time.monotonic())
        going_on = self.turns.mic_frame(
            chunk.captured_at, rms_dbfs(chunk.pcm), echo, self.decoder.stream_time
        )
        if going_on is not None:
            self._continue_question(going_on)
        self._on_partial(partial, chunk.captured_at, echo, short_heard)

    def _hearing_own_output(self) -> bool:
        """True while the capture is the kiosk's own output: its sound is not listened to."""
        own = self._own_output
        if (own is not None) != self._deaf:
            self._deaf = own is not None
            if own is not None:
                log.warning(
                    "The microphone is the kiosk's own speaker output (%s): not listening until "
                    "a microphone is connected.",
                    own,
                )
                self.status.write("own_output_capture", source=own)
                self._reset_decoder("own_output")
            else:
                log.warning("A microphone is connected again: listening.")
                self.status.write("own_output_capture", source=None)
        return self._deaf

    def _poll_keys(self) -> None:
        while not self.keys.events.empty():
            key = self.keys.events.get_nowait()
            if key == PUSH_TO_TALK:
                self.activation.push_to_talk()
                self._stop_speaking()
                self._reset_decoder("push_to_talk")
                self._cue()
                continue
            assert isinstance(key, Key)
            self._dispatch(KeyPressed(at=time.monotonic(), key=key))

    def _poll_speaker(self) -> None:
        ended = self.turns.playback(self.speaker.is_playing(), time.monotonic())
        if ended is not None:
            self.status.write("speech_finished")
            if not ended.keep_heard:
                self._reset_decoder("speech_finished")
            self._dispatch(SpeechFinished(at=time.monotonic()))

    # -- hearing ----------------------------------------------------------------------------

    def _on_partial(
        self, partial: Partial, captured_at: float, echo: bool, short_heard: str = ""
    ) -> None:
        actions = self.turns.partial(
            partial.text,
            grammar_heard=short_heard,
            in_speech=partial.in_speech,
            segment_ended=partial.segment_ended,
            last_word_end=partial.last_word_end,
            stream_time=self.decoder.stream_time,
            captured_at=captured_at,
            sound=self.activity.runs,
            echo=echo,
        )
        for action in actions:
            if isinstance(action, ResetDecoder):
                self._reset_decoder(action.reason)
            elif isinstance(action, SpeechStart):
                self.status.write("speech_start")
            elif isinstance(action, BargeIn):
                self._barge_in(action)
            elif isinstance(action, UtteranceEnded):
                self._finish_utterance(action.speech_end, action.needed_s)
            elif isinstance(action, AnswerHeld):
                self.status.write("held_question_answered")
                self._ask(action.question, action.open_heard)

    def _barge_in(self, barge: BargeIn) -> None:
        self.status.write(
            "barge_in",
            command=barge.command.value if barge.command else None,
            words=len(barge.words),
            talking_over=barge.talking_over,
            echo_gain_db=round(barge.echo_gain_db, 1),
        )
        if self.settings.log_transcripts:
            log.info("barge-in on: %s", " ".join(barge.words))
        self._stop_speaking()
        # Whatever the words turn out to be ("stop" is sometimes heard as "top" over the echo),
        # the kiosk has stopped talking.
        self.status.write("stop_speaking", cause="barge_in")
        self._dispatch(SpeechStarted(at=time.monotonic()))
        if barge.stops:
            # Anything but "stop" is decoded to its end ("what …" may become "what is the
            # success rate") and then handled like any other utterance.
            self._reset_decoder("barge_in_command")
            self._dispatch(Heard(at=time.monotonic(), text="stop", confidence=1.0))

    def _continue_question(self, going_on: ContinueQuestion) -> None:
        """The patient was only pausing: stop the reply at once and hear the rest."""
        self._stop_speaking()
        self.status.write("continue_question", after_ms=round(going_on.after_s * 1000))
        self.status.write("stop_speaking", cause="continue")
        self._dispatch(SpeechStarted(at=time.monotonic()))

    def _finish_utterance(self, speech_end_wall: float, needed_s: float) -> None:
        try:
            self._handle_utterance(speech_end_wall, needed_s)
        finally:
            # Its next recognizer is made in the background while the reply starts.
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
            open_heard = self.open_decoder.so_far()
            short = self.short_decoder.finish()
        except RecognitionError as exc:
            log.warning("%s", exc)
            self._reset_decoder("recognizer_error")
            return
        final_at = time.monotonic()
        transcript, self._last_open = self.turns.finished(transcript, open_heard)
        joined = self.turns.join_held(transcript, self._last_open)
        short_answer = False
        if joined is not None:
            # The rest of a question whose reply was stopped: one question, already let in.
            transcript, self._last_open = joined
            decision = UtteranceDecision(question=transcript)
        else:
            # A short answer the grammar heard surely stands for what the others heard.
            chosen = choose_short(transcript, self._last_open, short, self._command_in)
            short_answer = chosen[0] is not transcript
            transcript, self._last_open = chosen
            decision = self.activation.utterance(transcript)
        if self.settings.log_transcripts:
            log.info("heard: %s", transcript.clean_text)
        if decision.woke:
            self.status.write("wake")
        if decision.cue:
            self._cue()
        if decision.question is None:
            return
        transcript = decision.question
        text = transcript.clean_text
        self.status.write(
            "utterance",
            speech_end=round(speech_end_wall, 4),
            endpoint_wait_ms=round((endpoint_at - speech_end_wall) * 1000, 1),
            final_ms=round((final_at - endpoint_at) * 1000, 1),
            silence_needed_ms=round(needed_s * 1000),
            words=len(text.split()),
            continued=joined is not None,
            short_answer=short_answer,
        )
        if not text:
            return
        self._ask(transcript, self._last_open)
        self.activation.answered()

    def _ask(self, transcript: Transcript, open_heard: Transcript | None) -> None:
        """Pass a question to the dialogue; its reply can be stopped if the patient goes on."""
        self._last_transcript = transcript
        self._last_open = open_heard
        self._last_result = None
        self._reply_at = None
        self.short_decoder.expect(Expecting.COMMAND)  # a "Did you mean" below says otherwise
        confidence = transcript.confidence
        self._dispatch(
            Heard(
                at=time.monotonic(),
                text=transcript.clean_text,
                confidence=1.0 if confidence is None else confidence,
            )
        )
        result = self._last_result
        if self._reply_at is not None and result is not None:
            self.turns.replied(
                transcript, open_heard, result.action is Action.COMMAND, self._reply_at
            )

    def _reset_decoder(self, reason: str) -> None:
        self.status.write("decoder_reset", reason=reason, at_s=round(self.decoder.stream_time, 2))
        self.decoder.reset()
        self.activity.reset()
        self.noise.reset()
        self.open_decoder.reset()
        self.short_decoder.reset()
        self.turns.forget_utterance()

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
        elif isinstance(action, ClearScreen):
            # Before a greeting or at goodbye, never after: the greeting stays up while spoken.
            self.captions.clear()
        elif isinstance(action, Say):
            if action.kind is SayKind.CONFIRM:
                self.short_decoder.expect(Expecting.YES_NO)
            self._say(action, event_at, decided_at)
        elif isinstance(action, StopSpeaking):
            self._stop_speaking()
            self.status.write("stop_speaking")
        elif isinstance(action, Listen):
            self._cue()
        elif isinstance(action, EndSession):
            # Goodbye or no one there: in wake-phrase mode the kiosk waits to be called again.
            self.status.write("end_session")
            self.short_decoder.expect(Expecting.COMMAND)
            self.activation.session_ended()

    def _say(self, action: Say, event_at: float, decided_at: float) -> None:
        from voice.text.sentences import split_sentences

        self.turns.saying(spoken_words(action.text))
        first = True
        for sentence in split_sentences(action.text):
            try:
                audio = self.synth.synthesize(sentence, action.rate_wpm)
            except SpeechError as exc:
                # Captions already show the text; keep running without the voice.
                self._report_health(Part.SPEECH, False, f"Speech is not available: {exc}")
                return
            self._report_health(Part.SPEECH, True)
            # When this audio will reach the speaker: after everything already queued.
            starts_at = self.turns.queue(time.monotonic(), audio.duration_s)
            try:
                self.speaker.play(audio, action.volume)
            except DeviceError as exc:
                self._report_health(Part.SPEAKER, False, f"The speaker is not available: {exc}")
                return
            self._report_health(Part.SPEAKER, True)
            levels = frame_levels(audio.samples, audio.sample_rate, action.volume)
            self.turns.played(starts_at, levels)
            if first:
                self._reply_at = starts_at
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
        self.turns.said()

    def _cue(self) -> None:
        """The short "listening now" sound; the kiosk works without it."""
        try:
            self.speaker.play_cue(Cue.LISTENING, self.dialogue.volume * 0.6)
        except DeviceError as exc:
            log.warning("%s", exc)

    def _stop_speaking(self) -> None:
        self.speaker.stop()
        self.turns.stopped_speaking()

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
    # Warnings and library messages must not land between the captions.
    with logs_off_screen(settings.captions, settings.log_file) as log_file:
        kiosk = Kiosk(settings, faq)
        if log_file is not None:
            kiosk.captions.status(f"Log messages go to {log_file}")

        def on_signal(signum: int, frame: FrameType | None) -> None:
            kiosk.stop_requested.set()

        signal.signal(signal.SIGTERM, on_signal)
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is the normal way to stop
            kiosk.run()
    return 0
