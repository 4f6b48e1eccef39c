"""Deciding when a patient has finished speaking (pure logic, no audio).

Older speakers pause inside sentences, so the silence that ends a question depends on what has
been heard so far, in three steps:

- a clear question or command ends after a short silence (``complete_silence_s``);
- a hypothesis that ends on a whole word but is not yet a clear question ("will this treatment"),
  or a clear question that ends on a word that usually needs more ("… where it goes in"), gets a
  longer one (``unclear_silence_s``);
- an unclear one that ends on a word that needs more after it ("how long do the", "um") gets the
  longest (``incomplete_silence_s``): that is where people stop to find the next word.

The defaults live in ``EndpointSettings`` only; ``voice run`` takes its defaults from there.

All three stay above the 700 ms pauses older speakers make inside a question.
Silence is measured from the end of the last recognised word, which background noise does not
move the way it moves an energy threshold. Sound that comes back after that word (see
voice/audio/speech_activity.py) restarts the count for a while, because the recogniser shows the
words of a resumed question only about half a second after they start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from voice.audio.speech_activity import SoundRun

# Words after which a sentence is almost never finished.
CONTINUATION_WORDS = frozenset(
    """
    a an the and or but of to in on at for with by from about if that because so my your
    his her their our is are was were do does did can could will would should how what
    when why who which um uh er
    """.split()
)


@dataclass(frozen=True)
class EndpointSettings:
    """Trailing-silence rules, in seconds."""

    complete_silence_s: float = 0.8  # a clear question or a command
    unclear_silence_s: float = 0.9  # ends on a whole word, but not yet a clear question
    incomplete_silence_s: float = 1.4  # ends on a word that needs more ("how long do the")
    max_utterance_s: float = 20.0
    # Sound starting this long after the last word is the patient going on (not its tail) ...
    resume_gap_s: float = 0.15
    # ... for this long: if the recogniser has still heard no new word by then, it was noise.
    resume_hold_s: float = 1.0


def looks_unfinished(text: str) -> bool:
    """True when the hypothesis ends on a word that needs more after it."""
    words = [w for w in text.split() if w != "[unk]"]
    return not words or words[-1] in CONTINUATION_WORDS


@dataclass(frozen=True)
class EndpointState:
    """Where the current utterance stands."""

    silence_s: float
    needed_s: float
    ended: bool


def needed_silence(
    text: str, *, complete: bool, is_command: bool, settings: EndpointSettings
) -> float:
    """The trailing silence that ends this hypothesis (see the module's docstring)."""
    unfinished = looks_unfinished(text)
    if complete and (is_command or not unfinished):
        return settings.complete_silence_s
    if complete or not unfinished:
        # A clear question that ends on "in" or "about" ("… where it goes in") is usually
        # finished too, but the patient may be looking for one more word.
        return settings.unclear_silence_s
    return settings.incomplete_silence_s


def assess(
    *,
    text: str,
    stream_time_s: float,
    segment_end_s: float | None,
    first_word_s: float | None,
    complete: bool,
    is_command: bool = False,
    sound: Sequence[SoundRun] = (),
    settings: EndpointSettings,
) -> EndpointState:
    """Whether the utterance heard so far has ended.

    ``segment_end_s`` is the end of the last word of the recognizer's last finished segment, or
    None while the patient is still talking. ``complete`` says whether the text is already a
    confident match or a command (decided by the caller, which owns the matcher). ``sound``
    holds the recent runs of loud audio, in the same stream seconds.
    """
    needed = needed_silence(text, complete=complete, is_command=is_command, settings=settings)
    too_long = first_word_s is not None and stream_time_s - first_word_s > settings.max_utterance_s
    if not text.strip() or segment_end_s is None:
        return EndpointState(0.0, needed, too_long and bool(text.strip()))
    quiet_since = segment_end_s
    resumed = [r for r in sound if r.start_s >= segment_end_s + settings.resume_gap_s]
    if resumed and stream_time_s - resumed[0].start_s < settings.resume_hold_s:
        quiet_since = max(quiet_since, resumed[-1].end_s)
    silence = max(0.0, stream_time_s - quiet_since)
    return EndpointState(silence, needed, silence >= needed or too_long)
