"""The short-answer decoder that runs beside the kiosk's others: one grammar per state.

See voice/hearing/grammar.py for the grammars and for when their result stands. While the kiosk
waits for a yes or no it decodes with the yes/no grammar, otherwise with the commands; the
grammar for a state is a decoder of its own, so switching costs nothing but a reset.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from voice.hearing.decoder import Decoder
from voice.hearing.grammar import Expecting, grammar_phrases
from voice.hearing.transcript import Transcript
from voice.matching.commands import Command


class ShortAnswerDecoder:
    """Decodes each utterance with the grammar of what the kiosk expects (not thread-safe)."""

    def __init__(
        self,
        model: Any,
        commands: Mapping[Command, Sequence[str]],
        vocabulary: frozenset[str] | None = None,
        *,
        background: bool = False,
    ) -> None:
        self._decoders = {
            expecting: Decoder(
                model, grammar_phrases(commands, expecting, vocabulary), background=background
            )
            for expecting in Expecting
        }
        self.expecting = Expecting.COMMAND

    def expect(self, expecting: Expecting) -> None:
        """From now on, decode for this state (what was heard so far in the other is dropped)."""
        if expecting is not self.expecting:
            self._decoders[self.expecting].reset()
            self.expecting = expecting
            self._decoders[expecting].reset()

    def accept(self, chunk: bytes) -> str:
        """Feed one chunk of 16 kHz mono 16-bit audio; returns the grammar's hypothesis so far."""
        return self._decoders[self.expecting].accept(chunk).text

    def finish(self) -> Transcript:
        """What the grammar heard since the last reset (and start again)."""
        return self._decoders[self.expecting].finish()

    def reset(self) -> None:
        """Forget the current utterance."""
        self._decoders[self.expecting].reset()
