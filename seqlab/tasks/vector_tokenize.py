"""Whitespace and word tokenization of many texts at once, in array operations.

The same tokens as :class:`~seqlab.tasks.tokenizers.Tokenizer` (whitespace) and
:class:`~seqlab.tasks.tokenizers.WordTokenizer` (word) give text by text, without a Python
string per token: the texts of a chunk are joined into one string and encoded in UTF-8 (or,
for a tsv file, taken as its bytes: :func:`tokenize_pairs`), token boundaries come from the
classes of the characters, found on the bytes, and each token is keyed by two 64-bit hashes
of its UTF-8 bytes, its length and its joiners. :func:`factorize` numbers a chunk's keys; a
:class:`TypeTable` numbers the keys of all chunks, so only new types ever become Python
strings. The keys do not depend on the chunk, so the chunks of a corpus (tokenized in worker
threads) are merged by their keys.

The per-token passes run in seqlab's compiled kernels where they are built
(:mod:`seqlab.tasks.kernels`): a tsv chunk's tokens, texts and types in one pass, the keys,
a chunk's types and the table's adds; the numpy code here gives the same results (tested
side by side) and runs where they are not.

Two types are taken as one only when both hashes agree (about one chance in 2**128 for a
pair of different types). A chunk where a text holds a newline, which would end the text
early, is declined (``None``) and the caller tokenizes it text by text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import numpy as np

from seqlab.tasks import kernels
from seqlab.tasks.segments import segment_positions, words_at_every_byte
from seqlab.tasks.tokenizers import JOINER

SPACE, WORD, ALNUM, CONNECTOR = 1, 2, 4, 8  # character class bits
CONNECTORS = "-'’"  # inside a word between two word characters ("well-known", "don't")
_MIX1 = np.uint64(0x9E3779B97F4A7C15)
_MIX2 = np.uint64(0xC2B2AE3D27D4EB4F)
_MIX3 = np.uint64(0x165667B19E3779F9)
_SHIFT = np.uint64(29)
_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [(1 << 64) - 1], dtype=np.uint64)


def _ascii_space(codes: np.ndarray) -> np.ndarray:
    """Which code points (or UTF-8 bytes) are ASCII whitespace to ``str.isspace``."""
    return (codes == 32) | (codes - np.uint8(9) <= 4) | (codes - np.uint8(28) <= 3)


def _class_of(char: str) -> int:
    bits = SPACE if char.isspace() else 0
    if char.isalnum():
        bits |= WORD | ALNUM
    elif char == "_":
        bits |= WORD
    if char in CONNECTORS:
        bits |= CONNECTOR
    return bits


@cache
def _bmp_classes() -> np.ndarray:
    """Class bits of every code point below 0x10000 (Python's own isspace / isalnum, the
    definitions of ``\\s`` and ``\\w`` in ``re``)."""
    return np.array([_class_of(chr(c)) for c in range(0x10000)], dtype=np.uint8)


def _classes(codes: np.ndarray) -> np.ndarray:
    """Class bits (uint8) of ASCII code points or UTF-8 bytes (the bytes of multi-byte
    characters get none here), by comparisons: quicker than a table lookup."""
    space = _ascii_space(codes)
    alnum = ((codes | np.uint8(32)) - np.uint8(97) <= 25) | (codes - np.uint8(48) <= 9)
    classes = space.view(np.uint8) * np.uint8(SPACE)
    classes |= alnum.view(np.uint8) * np.uint8(WORD | ALNUM)
    classes |= (codes == 95).view(np.uint8) * np.uint8(WORD)
    classes |= ((codes == 45) | (codes == 39)).view(np.uint8) * np.uint8(CONNECTOR)
    return classes


def _byte_classes(units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Class bits (uint8) of the characters of UTF-8 text, one per byte (every byte of a
    character has its class), and which bytes continue a character. ASCII by comparisons;
    other characters decoded from their bytes, their classes from the table (outside the
    Basic Multilingual Plane: one lookup per distinct character)."""
    classes = _classes(units)
    continuation = (units & np.uint8(0xC0)) == 0x80
    leads = np.flatnonzero(units >= 0xC0)
    if not len(leads):
        return classes, continuation
    padded = np.append(units, np.zeros(3, dtype=np.uint8))
    first = padded[leads].astype(np.int64)
    second, third, fourth = (padded[leads + k].astype(np.int64) & 0x3F for k in (1, 2, 3))
    sizes = 2 + (first >= 0xE0) + (first >= 0xF0)
    code = np.where(
        sizes == 2,
        (first & 0x1F) << 6 | second,
        np.where(
            sizes == 3,
            (first & 0x0F) << 12 | second << 6 | third,
            (first & 0x07) << 18 | second << 12 | third << 6 | fourth,
        ),
    )
    bits = np.take(_bmp_classes(), np.minimum(code, 0xFFFF))
    astral = np.flatnonzero(code > 0xFFFF)
    if len(astral):
        distinct, inverse = np.unique(code[astral], return_inverse=True)
        bits[astral] = np.array([_class_of(chr(int(v))) for v in distinct], np.uint8)[inverse]
    for k in range(4):  # the lead byte, then each continuation byte
        classes[leads[sizes > k] + k] = bits[sizes > k]
    return classes, continuation


def _hashes(
    utf8: bytes, starts: np.ndarray, ends: np.ndarray, salt: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Two 64-bit hashes (uint64) of each token's bytes utf8[start:end], its length and
    ``salt`` (joiner bits): the compiled kernel where built, else :func:`_numpy_hashes`."""
    kernel = kernels.compiled
    if kernel is None:
        return _numpy_hashes(utf8, starts, ends - starts, salt)
    first, second = np.empty(len(starts), np.uint64), np.empty(len(starts), np.uint64)
    starts, ends = np.ascontiguousarray(starts, np.int64), np.ascontiguousarray(ends, np.int64)
    kernel.token_keys(utf8, starts, ends, np.ascontiguousarray(salt, np.uint8), first, second)
    return first, second


def _numpy_hashes(
    utf8: bytes, starts: np.ndarray, lengths: np.ndarray, salt: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Two 64-bit hashes of each token's bytes utf8[start : start + length], its length and
    ``salt`` (joiner bits), multiplicative (their high bits are the best mixed). The bytes
    are read 8 at a time."""
    words = words_at_every_byte(utf8 + bytes(8), "<")

    def read(at: np.ndarray, remaining: np.ndarray) -> np.ndarray:
        """The 8 bytes from each byte offset ``at``, of which the first ``remaining`` count."""
        return words[at] & _MASKS[np.minimum(remaining, 8)]

    key = lengths.astype(np.uint64) << np.uint64(2) | salt.astype(np.uint64)
    word = read(starts, lengths)
    first = (key * _MIX2 ^ word) * _MIX1
    second = (key * _MIX1 + word) * _MIX3
    rows = np.flatnonzero(lengths > 8)
    offset = 8
    while len(rows):  # the rest of the longer tokens, 8 bytes a round
        remaining = lengths[rows] - offset
        word = read(starts[rows] + offset, remaining)
        first[rows] = ((first[rows] >> _SHIFT) ^ first[rows] ^ word) * _MIX1
        second[rows] = ((second[rows] >> _SHIFT) ^ second[rows] + word) * _MIX3
        offset += 8
        rows = rows[remaining > 8]
    return first, second


class TypeTable:
    """Dense ids for keys of two 64-bit hashes: a hash table with linear probing on the
    first hash, filled in array operations, which grows to keep at most half of its slots
    used. A slot is one row (first, second, id + 1; 0 when free), so a probe is one read.

    ``add`` numbers a batch of keys at once. Keys found in their home slot are looked up in
    one pass; the others go round by round: every key not yet placed claims its slot if the
    slot is free, and is placed where the slot holds its key (one it claimed itself, one
    claimed by an equal key of the batch, or an earlier one); the others move on to the next
    slot. New keys get the next ids, in the order of the batch positions that claimed them."""

    def __init__(self, capacity: int = 1024) -> None:
        self.count = 0
        self._allocate(capacity)

    def __len__(self) -> int:
        return self.count

    def _allocate(self, capacity: int) -> None:
        self.bits = max(10, (2 * capacity - 1).bit_length())
        self.slots = np.zeros((1 << self.bits, 3), dtype=np.uint64)
        self.owner = np.full(1 << self.bits, -1, dtype=np.int64)  # claims during one add

    def keys(self) -> tuple[np.ndarray, np.ndarray]:
        """Every key (first, second), by id."""
        rows = self.slots[self.slots[:, 2] > 0]
        rows = rows[np.argsort(rows[:, 2])]
        return rows[:, 0].copy(), rows[:, 1].copy()

    def lookup(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """The id of every key already in the table, -1 for the others (int64), without
        changing the table: other threads may call it while one thread adds keys.

        A concurrent reader can only miss a key, never mistake one: it reads one slots array
        (a table that grows moves to a new array, filled again), and a slot only ever changes
        from free (all zeros) to its final row, each field at most once, so a row read while
        it is written either shows the whole key with its id or fails to match."""
        slots_array = self.slots  # one snapshot
        mask = len(slots_array) - 1
        slots = (first >> np.uint64(65 - len(slots_array).bit_length())).astype(np.int64)
        ids = np.full(len(first), -1, dtype=np.int64)
        todo = np.arange(len(first))
        while len(todo):
            rows = np.take(slots_array, slots[todo], axis=0)  # quicker than indexing rows
            held = rows[:, 2] > 0
            found = held & (rows[:, 0] == first[todo]) & (rows[:, 1] == second[todo])
            ids[todo[found]] = rows[found, 2].astype(np.int64) - 1
            todo = todo[held & ~found]  # a free slot ends the probe: not in the table
            slots[todo] = (slots[todo] + 1) & mask
        return ids

    def add(self, first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The id of every key (int64), and for each new id (from the table's old length on)
        a position in the batch holding its key: the compiled kernel's adds, one key after
        another, where built; else rounds of array operations, as the class says."""
        if 2 * (self.count + len(first)) > len(self.slots):
            old_first, old_second = self.keys()
            self.count = 0
            self._allocate(2 * (len(old_first) + len(first)))
            self.add(old_first, old_second)  # distinct keys, in id order: they keep their ids
        kernel = kernels.compiled
        if kernel is not None:
            ids, examples = np.empty(len(first), np.int64), np.empty(len(first), np.int64)
            first, second = np.ascontiguousarray(first), np.ascontiguousarray(second)
            count = kernel.type_table_add(self.slots, self.count, first, second, ids, examples)
            examples = examples[: count - self.count]
            self.count = count
            return ids, examples
        mask = len(self.slots) - 1
        slots = (first >> np.uint64(64 - self.bits)).astype(np.int64)
        placed = np.full(len(first), -1, dtype=np.int64)
        if self.count:  # keys already in the table, in their home slot
            rows = np.take(self.slots, slots, axis=0)
            known = (rows[:, 2] > 0) & (rows[:, 0] == first) & (rows[:, 1] == second)
            placed[known] = slots[known]
            todo = np.flatnonzero(~known)
        else:
            todo = np.arange(len(first))
        claims = []
        while len(todo):
            wanted = slots[todo]
            rows = np.take(self.slots, wanted, axis=0)
            held = rows[:, 2] > 0
            free = ~held & (self.owner[wanted] < 0)
            self.owner[wanted[free]] = todo[free]
            claims.append(wanted[free])
            claimant = self.owner[wanted]
            key_first = np.where(held, rows[:, 0], first[claimant])
            key_second = np.where(held, rows[:, 1], second[claimant])
            found = (key_first == first[todo]) & (key_second == second[todo])
            placed[todo[found]] = wanted[found]
            todo = todo[~found]
            slots[todo] = (slots[todo] + 1) & mask
        claimed = np.concatenate(claims) if claims else np.zeros(0, dtype=np.int64)
        if len(claimed) * 16 < len(self.owner):
            claimed = np.unique(claimed)
        else:
            claimed = np.flatnonzero(self.owner >= 0)
        examples = self.owner[claimed]  # the batch position that claimed each slot
        self.owner[claimed] = -1
        present = np.zeros(len(first), dtype=bool)
        present[examples] = True
        rank = np.cumsum(present) - 1  # new ids in the order of the batch positions
        fields = self.slots.reshape(-1)  # row r's fields at 3r, 3r + 1, 3r + 2: written in
        at = 3 * claimed  # the order of the slots, the quickest for a table out of cache
        fields[at] = first[examples]
        fields[at + 1] = second[examples]
        fields[at + 2] = self.count + 1 + rank[examples]
        self.count += len(claimed)
        examples = np.flatnonzero(present)
        return fields[3 * placed + 2].astype(np.int64) - 1, examples


def factorize(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dense ids (int32) of a batch of keys, the position of one key of each id (int64) and
    how many keys each id has (int64): the compiled kernel where built (ids in the order keys
    first occur), else :func:`_numpy_factorize`."""
    kernel = kernels.compiled
    if kernel is None:
        ids, examples = _numpy_factorize(first, second)
        return ids, examples, np.bincount(ids, minlength=len(examples)).astype(np.int64)
    ids = np.empty(len(first), dtype=np.int32)
    first, second = np.ascontiguousarray(first), np.ascontiguousarray(second)
    examples, counts = kernel.factorize_keys(first, second, ids)
    return ids, np.frombuffer(examples, np.int64), np.frombuffer(counts, np.int64)


def _numpy_factorize(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense ids (int32) of a batch of keys, and the position of one key of each id: the
    first round of :meth:`TypeTable.add` on an empty table, where every key claims its home
    slot at once, then the keys that lost their slot to another key go on from there. A
    key's id comes from the position that claimed its slot, so the table is never scanned."""
    count = len(first)
    bits = max(10, (2 * count).bit_length())
    owner = np.full(1 << bits, -1, dtype=np.int32)  # half the memory of int64: fewer misses
    slots = (first >> np.uint64(64 - bits)).astype(np.int64)
    owner[slots] = np.arange(count, dtype=np.int32)
    claimant = owner[slots]
    todo = np.flatnonzero((first[claimant] != first) | (second[claimant] != second))
    mask = len(owner) - 1
    while len(todo):
        slots[todo] = (slots[todo] + 1) & mask
        wanted = slots[todo]
        free = owner[wanted] < 0
        owner[wanted[free]] = todo[free]
        found = owner[wanted]
        claimant[todo] = found
        lost = (first[found] != first[todo]) | (second[found] != second[todo])
        todo = todo[lost]
    claimed = claimant == np.arange(count, dtype=np.int32)  # each key's slot, claimed once
    dense = np.cumsum(claimed, dtype=np.int32) - 1
    return dense[claimant], np.flatnonzero(claimed)


@dataclass
class TokenizedChunk:
    """A chunk of texts tokenized.

    ids (N,) int32: the chunk-local type of every token; lengths (texts,) int64: tokens per
    text; first, second (types,) uint64: the key of each local type, the same in every
    chunk; utf8, starts, ends, salt: local type i is the UTF-8 text
    ``utf8[starts[i]:ends[i]]`` with the joiner before it where ``salt[i] & 1`` and after it
    where ``salt[i] & 2``; flagged (int64): the positions of the texts that hold any of the
    characters the caller asked about; counts (types,) int64: the tokens of each local type,
    where already counted (see :meth:`type_counts`).
    """

    ids: np.ndarray
    lengths: np.ndarray
    first: np.ndarray
    second: np.ndarray
    utf8: bytes
    starts: np.ndarray
    ends: np.ndarray
    salt: np.ndarray
    flagged: np.ndarray
    counts: np.ndarray | None = None

    def type_counts(self) -> np.ndarray:
        """The tokens of each local type (int64)."""
        if self.counts is None:
            self.counts = np.bincount(self.ids, minlength=len(self.first)).astype(np.int64)
        return self.counts

    def type_strings(self, local: np.ndarray) -> list[str]:
        """The strings of these local types: their bytes gathered into one text, a newline
        after each (no token holds one), decoded and split at once."""
        starts, sizes = self.starts[local], self.ends[local] - self.starts[local] + 1
        source = segment_positions(starts, sizes)
        ends = np.cumsum(sizes)
        gathered = np.frombuffer(self.utf8 + b"\n", dtype=np.uint8)[source]
        gathered[ends - 1] = 10
        strings = gathered.tobytes().decode("utf-8", "surrogatepass").split("\n")[:-1]
        for i in np.flatnonzero(self.salt[local]).tolist():
            strings[i] = _with_joiners(strings[i], int(self.salt[local[i]]))
        return strings

    @property
    def types(self) -> list[str]:
        """The strings of all local types (local id i is types[i])."""
        return self.type_strings(np.arange(len(self.first)))


def _with_joiners(token: str, bits: int) -> str:
    return (JOINER if bits & 1 else "") + token + (JOINER if bits & 2 else "")


# whitespace outside ASCII (U+0085 ... U+3000, all of 2 or 3 UTF-8 bytes): a table by code
# point, and a table of the UTF-8 lead bytes that may start one
_WIDE_SPACE = np.array([chr(c).isspace() for c in range(0x10000)], dtype=bool)
_WIDE_SPACE[:128] = False
_SPACE_LEADS = sorted({chr(c).encode()[0] for c in np.flatnonzero(_WIDE_SPACE).tolist()})


def _byte_spaces(units: np.ndarray, ascii_only: bool) -> np.ndarray:
    """Which bytes of UTF-8 text (uint8) belong to whitespace characters (to
    ``str.isspace``): ASCII ones by comparisons; others by decoding the 2- or 3-byte
    characters that start with one of their lead bytes, and a table."""
    space = _ascii_space(units)
    if ascii_only:
        return space
    lead = units == _SPACE_LEADS[0]
    for byte in _SPACE_LEADS[1:]:  # a few comparisons: quicker than a table lookup
        lead |= units == byte
    at = np.flatnonzero(lead)
    if not len(at):
        return space
    padded = np.append(units, np.zeros(2, dtype=np.uint8)).astype(np.int64)
    lead, second, third = padded[at], padded[at + 1] & 0x3F, padded[at + 2] & 0x3F
    two = lead < 0xE0
    code = np.where(two, (lead & 0x1F) << 6 | second, (lead & 0x0F) << 12 | second << 6 | third)
    hit = _WIDE_SPACE[code]
    at, three = at[hit], ~two[hit]
    space[at] = space[at + 1] = True
    space[at[three] + 2] = True
    return space


def _positions(utf8: bytes, chars: str) -> np.ndarray:
    """Byte offsets of every occurrence of these characters in UTF-8 text."""
    found = []
    for char in chars:
        sequence = char.encode("utf-8", "surrogatepass")
        if sequence in utf8:
            found += [m.start() for m in re.finditer(re.escape(sequence), utf8)]
    return np.array(sorted(found), dtype=np.int64)


def joined_text(texts: list[str], lowercase: bool) -> str:
    """The texts as one, a newline after each but the last (lowercased if asked)."""
    text = "\n".join(texts)
    return text.lower() if lowercase else text


def tokenize_texts(
    kind: str, lowercase: bool, texts: list[str], flag_chars: str = ""
) -> TokenizedChunk | None:
    """``texts`` tokenized by the ``kind`` tokenizer (whitespace | word), with the texts that
    hold any of ``flag_chars``; None where the chunk must be tokenized text by text."""
    text = joined_text(texts, lowercase)
    if text.count("\n") != len(texts) - 1:
        return None
    utf8 = text.encode("utf-8", "surrogatepass")
    starts, ends, salt, units = _tokens(kind, text, utf8)
    line_ends = np.flatnonzero(units == 10)
    text_starts = np.concatenate([[0], line_ends + 1])
    lengths = np.diff(np.searchsorted(starts, text_starts), append=len(starts))
    chunk = _typed_chunk(utf8, starts, ends, salt, lengths)
    if flag_chars:
        at = _positions(utf8, flag_chars)
        chunk.flagged = np.unique(np.searchsorted(text_starts, at, side="right") - 1)
    return chunk


def tokenize_pairs(kind: str, lowercase: bool, raw: bytes) -> tuple[TokenizedChunk, ...] | None:
    """The lines of a ``source<TAB>target`` file (``raw``: whole lines of UTF-8, each ending
    with a newline) tokenized as two texts each: the sources' chunk and the targets' chunk.
    None unless every line holds one tab, a token on each side, and valid UTF-8 (the caller
    then reads the file line by line, for the message or the lines it skips)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if lowercase:
        text = text.lower()
        raw = text.encode("utf-8")
    if kernels.compiled is not None:
        sides = _kernel_pairs(kind, raw)
        if sides is not False:  # False: declined, a character beyond the BMP (word)
            return sides
    starts, ends, salt, units = _tokens(kind, text, raw)
    text_ends = np.flatnonzero((units == 9) | (units == 10))  # the tab or the newline
    separators = units[text_ends]
    if len(separators) % 2 or (separators[0::2] != 9).any() or (separators[1::2] != 10).any():
        return None
    text_starts = np.concatenate([[0], text_ends[:-1] + 1])
    lengths = np.diff(np.searchsorted(starts, text_starts), append=len(starts))
    if not lengths.all():  # a blank side
        return None
    target = np.repeat(np.arange(len(lengths)) % 2 == 1, lengths)
    return tuple(
        _typed_chunk(raw, starts[side], ends[side], salt[side], lengths[k::2])
        for k, side in enumerate((~target, target))
    )


def _kernel_pairs(kind: str, raw: bytes) -> tuple[TokenizedChunk, TokenizedChunk] | bool | None:
    """:func:`tokenize_pairs` by the compiled kernel: tokens, texts and types in one pass over
    the bytes; False where the kernel declines the chunk (the word tokenizer, on a character
    beyond the Basic Multilingual Plane)."""
    if kind == "word":
        sides = kernels.compiled.word_pairs(raw, _bmp_classes())
    else:
        sides = kernels.compiled.whitespace_pairs(raw)
    if not sides:
        return sides
    chunks = []
    for ids, lengths, first, second, starts, ends, salts, counts in sides:
        chunks.append(
            TokenizedChunk(
                np.frombuffer(ids, np.int32),
                np.frombuffer(lengths, np.int64),
                np.frombuffer(first, np.uint64),
                np.frombuffer(second, np.uint64),
                raw,
                np.frombuffer(starts, np.int64),
                np.frombuffer(ends, np.int64),
                np.frombuffer(salts, np.uint8),
                np.zeros(0, dtype=np.int64),
                np.frombuffer(counts, np.int64),
            )
        )
    return chunks[0], chunks[1]


def _tokens(
    kind: str, text: str, utf8: bytes
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Where each token of ``text`` (its UTF-8 bytes ``utf8``) starts and ends (byte
    offsets), its joiner bits, and the bytes (uint8).

    Whitespace: ASCII whitespace by comparisons on the bytes, other whitespace characters
    decoded where their lead bytes are. Word: every byte carries the class of its character
    (see _byte_classes), and tokens start and end at character boundaries."""
    units = np.frombuffer(utf8, dtype=np.uint8)
    if kind != "word":
        starts, ends = _runs(~_byte_spaces(units, len(utf8) == len(text)))
        return starts, ends, np.zeros(len(starts), dtype=np.uint8), units
    return (*_word_tokens(*_byte_classes(units)), units)


def _typed_chunk(
    utf8: bytes, starts: np.ndarray, ends: np.ndarray, salt: np.ndarray, lengths: np.ndarray
) -> TokenizedChunk:
    """The chunk of these tokens of ``utf8``, in texts of ``lengths`` tokens: each token keyed
    (:func:`_hashes`), and the keys numbered (:func:`factorize`)."""
    first, second = _hashes(utf8, starts, ends, salt)
    ids, examples, counts = factorize(first, second)
    return TokenizedChunk(
        ids,
        lengths.astype(np.int64),
        first[examples],
        second[examples],
        utf8,
        starts[examples],
        ends[examples],
        salt[examples],
        np.zeros(0, dtype=np.int64),
        counts,
    )


def _runs(inside: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each run of set entries of ``inside`` (bool) starts, and where it ends (the
    position after its last entry): the places where an entry differs from the one before
    it (with unset ones before the first and after the last) alternate between the two."""
    if not len(inside):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    change = np.empty(len(inside) + 1, dtype=bool)
    change[0], change[-1] = inside[0], inside[-1]
    np.not_equal(inside[1:], inside[:-1], out=change[1:-1])
    edges = np.flatnonzero(change)
    return edges[0::2], edges[1::2]


def chunk_of_token_lists(token_lists: list[list[str]], flagged: list[int]) -> TokenizedChunk:
    """A TokenizedChunk of tokens found text by text (types keyed by their whole strings,
    so they merge with the same types of other chunks by their strings, not their keys)."""
    local: dict[str, int] = {}
    ids = [local.setdefault(token, len(local)) for tokens in token_lists for token in tokens]
    encoded = [token.encode("utf-8", "surrogatepass") for token in local]
    sizes = np.array([len(token) for token in encoded], dtype=np.int64)
    ends = np.cumsum(sizes)
    salt = np.zeros(len(encoded), dtype=np.uint8)
    utf8 = b"".join(encoded)
    first, second = _hashes(utf8, ends - sizes, ends, salt)
    return TokenizedChunk(
        np.array(ids, dtype=np.int32),
        np.array([len(tokens) for tokens in token_lists], dtype=np.int64),
        first,
        second,
        utf8,
        ends - sizes,
        ends,
        salt,
        np.array(flagged, dtype=np.int64),
    )


def _word_tokens(
    classes: np.ndarray, continuation: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Token starts and ends (byte offsets) of the word tokenizer on UTF-8 text whose bytes
    carry their characters' classes (see _byte_classes), and joiner bits per token (1: a
    joiner before it, 2: after it), as WordTokenizer.encode sets them. Tokens start at a
    character's first byte and end after a character's last byte; the character before a
    byte's own is the one of the byte before it."""
    space = (classes & SPACE).astype(bool)
    word = (classes & WORD).astype(bool)
    inside = np.zeros_like(word)  # connectors between two word characters
    at = np.flatnonzero((classes & CONNECTOR).astype(bool) & ~continuation)
    if len(at):
        padded = np.append(continuation, np.zeros(3, dtype=bool))
        sizes, run = np.ones(len(at), dtype=np.int64), np.ones(len(at), dtype=bool)
        for k in (1, 2, 3):  # the connector's bytes
            run &= padded[at + k]
            sizes += run
        after = at + sizes
        between = (at > 0) & (after < len(word))
        between[between] = word[at[between] - 1] & word[after[between]]
        for k in range(4):
            inside[at[between & (sizes > k)] + k] = True
    mark = ~space & ~(word | inside)  # one token per character
    first_byte = ~continuation
    last_byte = np.append(first_byte[1:], True)
    before_space = np.concatenate([[True], space[:-1]])
    after_space = np.concatenate([space[1:], [True]])
    mark_before = np.concatenate([[False], mark[:-1]])
    mark_after = np.concatenate([mark[1:], [False]])
    starts = np.flatnonzero(first_byte & ~space & (before_space | mark | mark_before))
    ends = np.flatnonzero(last_byte & ~space & (after_space | mark | mark_after)) + 1
    # a token written against the previous one: a word starting with a letter or digit puts
    # the joiner on the previous token, anything else (a mark, "_word") carries it itself
    attached = np.zeros(len(starts), dtype=bool)
    attached[1:] = starts[1:] == ends[:-1]
    alnum_first = (classes[starts] & ALNUM).astype(bool)
    salt = (attached & ~alnum_first).astype(np.uint8)
    salt[:-1] |= (attached[1:] & alnum_first[1:]).astype(np.uint8) << 1
    return starts, ends, salt
