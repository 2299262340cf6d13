/* Compiled kernels of seqlab's tokenizing (seqlab.tasks.kernels loads them):
 * - whitespace_pairs, word_pairs: a chunk of `source<TAB>target` lines in one pass: tokens
 *   found, texts checked and counted, each token keyed and numbered in its side's types
 *   (vector_tokenize.tokenize_pairs);
 * - token_keys, factorize_keys: the keys of tokens found by numpy, and their chunk-local
 *   types (vector_tokenize._hashes, factorize);
 * - type_table_add: the corpus' type table numbering a chunk's types (TypeTable.add);
 * - piece_offsets, expand_pieces: texts of words into sentencepiece pieces
 *   (flat_encoding._expand_texts).
 * Each replaces several numpy passes over arrays of a whole chunk by one pass. The results are
 * the same as numpy's (tests/test_token_kernel.py runs both); the numpy code runs where this
 * module is not built.
 *
 * Arrays come in as buffers (numpy arrays, bytes), so no numpy headers are needed to build.
 * Python's lock is released while a kernel runs: the chunks of a corpus are tokenized in
 * worker threads. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MIX1 0x9E3779B97F4A7C15ULL
#define MIX2 0xC2B2AE3D27D4EB4FULL
#define MIX3 0x165667B19E3779F9ULL
#define SHIFT 29

/* The n (0..8) bytes at p as a little-endian number: the bytes numpy reads 8 at a time from
 * any offset, masked to the token's remaining bytes. `room`: the bytes from p to the end of
 * the text (8 or more: one unaligned read, then a mask). */
static inline uint64_t read_le(const unsigned char *p, int64_t n, int64_t room) {
    uint64_t word = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (room >= 8) {
        memcpy(&word, p, 8);
        return n >= 8 ? word : word & ((1ULL << (8 * n)) - 1);
    }
#endif
    if (n > 8) n = 8;
    for (int64_t k = n - 1; k >= 0; k--) word = (word << 8) | p[k];
    return word;
}

/* The two 64-bit keys of the token utf8[start : start + length] (of a text of `size` bytes)
 * with joiner bits `salt`: _numpy_hashes's multiplicative hashes, 8 bytes a round. */
static inline void key_of(const unsigned char *utf8, int64_t size, int64_t start, int64_t length,
                          uint8_t salt, uint64_t *first, uint64_t *second) {
    uint64_t key = (uint64_t)length << 2 | salt;
    uint64_t word = read_le(utf8 + start, length, size - start);
    uint64_t a = (key * MIX2 ^ word) * MIX1, b = (key * MIX1 + word) * MIX3;
    for (int64_t offset = 8; offset < length; offset += 8) {
        word = read_le(utf8 + start + offset, length - offset, size - start - offset);
        a = ((a >> SHIFT) ^ a ^ word) * MIX1;
        b = ((b >> SHIFT) ^ (b + word)) * MIX3;
    }
    *first = a;
    *second = b;
}

/* Fetch a buffer of items of `itemsize` bytes; `writable` for outputs. */
static int get_buffer(PyObject *object, Py_buffer *view, Py_ssize_t itemsize, int writable,
                      const char *name) {
    if (PyObject_GetBuffer(object, view, PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0)))
        return -1;
    if (view->len % itemsize) {
        PyErr_Format(PyExc_ValueError, "%s: %zd bytes is not a whole number of %zd-byte items",
                     name, view->len, itemsize);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* Fetch n buffers (see get_buffer); 0 when all are fetched, else -1 with none held. */
static int get_buffers(PyObject **objects, Py_buffer *views, int n, const Py_ssize_t *sizes,
                       const int *writable, const char **names) {
    for (int got = 0; got < n; got++) {
        if (get_buffer(objects[got], &views[got], sizes[got], writable[got], names[got])) {
            while (got--) PyBuffer_Release(&views[got]);
            return -1;
        }
    }
    return 0;
}

static void release_buffers(Py_buffer *views, int n) {
    for (int k = 0; k < n; k++) PyBuffer_Release(&views[k]);
}

static PyObject *token_keys(PyObject *self, PyObject *args) {
    PyObject *objects[6];
    static const Py_ssize_t sizes[6] = {1, 8, 8, 1, 8, 8};
    static const int writable[6] = {0, 0, 0, 0, 1, 1};
    static const char *names[6] = {"utf8", "starts", "ends", "salt", "first", "second"};
    Py_buffer views[6];
    if (!PyArg_ParseTuple(args, "OOOOOO:token_keys", &objects[0], &objects[1], &objects[2],
                          &objects[3], &objects[4], &objects[5]) ||
        get_buffers(objects, views, 6, sizes, writable, names))
        return NULL;
    Py_ssize_t n = views[1].len / 8, bad = -1;
    int sizes_agree = views[2].len / 8 == n && views[3].len == n && views[4].len / 8 == n &&
                      views[5].len / 8 == n;
    if (sizes_agree) {
        const unsigned char *utf8 = views[0].buf;
        const int64_t *starts = views[1].buf, *ends = views[2].buf;
        const uint8_t *salt = views[3].buf;
        uint64_t *first = views[4].buf, *second = views[5].buf;
        int64_t size = views[0].len;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = 0; i < n; i++) {
            int64_t start = starts[i], length = ends[i] - starts[i];
            if (start < 0 || length < 0 || ends[i] > size) {
                bad = i;
                break;
            }
            key_of(utf8, size, start, length, salt[i], &first[i], &second[i]);
        }
        Py_END_ALLOW_THREADS
    }
    release_buffers(views, 6);
    if (!sizes_agree) {
        PyErr_SetString(PyExc_ValueError, "token_keys: arrays of different lengths");
        return NULL;
    }
    if (bad >= 0) {
        PyErr_Format(PyExc_ValueError, "token_keys: token %zd lies outside the text", bad);
        return NULL;
    }
    Py_RETURN_NONE;
}

/* Dense ids of keys (first, second) in the order they first occur: an open-addressing table
 * of type ids (linear probing from the first key's high bits), grown to stay at most half
 * full, and each type's key, first position and count in arrays by id. (Measured against a
 * table whose slots hold the whole entry: the small table of ids is quicker, as the types of
 * a Zipfian text's frequent words are the first ids, close together in the arrays.) */
typedef struct {
    int32_t *slots; /* type id, -1 when free */
    int bits;
    uint64_t *first, *second;
    int64_t *examples; /* position of each type's first key */
    int64_t *counts;   /* keys of each type */
    Py_ssize_t types, capacity;
} Factorizer;

static int grow_slots(Factorizer *f) {
    int bits = f->bits + 1;
    size_t size = (size_t)1 << bits;
    int32_t *slots = malloc(size * sizeof(int32_t));
    if (!slots) return -1;
    memset(slots, 0xFF, size * sizeof(int32_t));
    for (Py_ssize_t type = 0; type < f->types; type++) {
        size_t slot = f->first[type] >> (64 - bits);
        while (slots[slot] >= 0) slot = (slot + 1) & (size - 1);
        slots[slot] = (int32_t)type;
    }
    free(f->slots);
    f->slots = slots;
    f->bits = bits;
    return 0;
}

static int grow_types(Factorizer *f) {
    Py_ssize_t capacity = 2 * f->capacity;
    void **arrays[4] = {(void **)&f->first, (void **)&f->second, (void **)&f->examples,
                        (void **)&f->counts};
    for (int k = 0; k < 4; k++) {
        void *grown = realloc(*arrays[k], capacity * 8);
        if (!grown) return -1;
        *arrays[k] = grown;
    }
    f->capacity = capacity;
    return 0;
}

/* The type of key (a, b), counted once more; a new one (first seen at `example`: *is_new
 * set) where the table does not hold it; -1 where memory runs out. */
static inline int64_t type_of(Factorizer *f, uint64_t a, uint64_t b, int64_t example,
                              int *is_new) {
    size_t mask = ((size_t)1 << f->bits) - 1;
    size_t slot = a >> (64 - f->bits);
    for (;;) {
        int32_t type = f->slots[slot];
        if (type < 0) break;
        if (f->first[type] == a && f->second[type] == b) {
            f->counts[type]++;
            *is_new = 0;
            return type;
        }
        slot = (slot + 1) & mask;
    }
    if (f->types >= INT32_MAX) return -1;
    if (f->types == f->capacity && grow_types(f)) return -1;
    int32_t type = (int32_t)f->types++;
    f->first[type] = a;
    f->second[type] = b;
    f->examples[type] = example;
    f->counts[type] = 1;
    f->slots[slot] = type;
    *is_new = 1;
    if (2 * f->types > (Py_ssize_t)mask + 1 && grow_slots(f)) return -1;
    return type;
}

static int factorizer_init(Factorizer *f) {
    *f = (Factorizer){NULL, 10, NULL, NULL, NULL, NULL, 0, 512};
    f->slots = malloc(((size_t)1 << f->bits) * sizeof(int32_t));
    f->first = malloc(f->capacity * 8);
    f->second = malloc(f->capacity * 8);
    f->examples = malloc(f->capacity * 8);
    f->counts = malloc(f->capacity * 8);
    if (!f->slots || !f->first || !f->second || !f->examples || !f->counts) return -1;
    memset(f->slots, 0xFF, ((size_t)1 << f->bits) * sizeof(int32_t));
    return 0;
}

static void factorizer_free(Factorizer *f) {
    free(f->slots);
    free(f->first);
    free(f->second);
    free(f->examples);
    free(f->counts);
}

static int factorize_into(Factorizer *f, const uint64_t *first, const uint64_t *second,
                          Py_ssize_t n, int32_t *ids) {
    int is_new;
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t type = type_of(f, first[i], second[i], i, &is_new);
        if (type < 0) return -1;
        ids[i] = (int32_t)type;
    }
    return 0;
}

static PyObject *factorize_keys(PyObject *self, PyObject *args) {
    PyObject *objects[3];
    static const int writable[3] = {0, 0, 1};
    static const Py_ssize_t sizes[3] = {8, 8, 4};
    static const char *names[3] = {"first", "second", "ids"};
    Py_buffer views[3];
    if (!PyArg_ParseTuple(args, "OOO:factorize_keys", &objects[0], &objects[1], &objects[2]) ||
        get_buffers(objects, views, 3, sizes, writable, names))
        return NULL;
    Py_ssize_t n = views[0].len / 8;
    PyObject *result = NULL;
    if (views[1].len / 8 != n || views[2].len / 4 != n) {
        PyErr_SetString(PyExc_ValueError, "factorize_keys: arrays of different lengths");
    } else {
        Factorizer f;
        int failed = factorizer_init(&f);
        if (!failed) {
            Py_BEGIN_ALLOW_THREADS
            failed = factorize_into(&f, views[0].buf, views[1].buf, n, views[2].buf);
            Py_END_ALLOW_THREADS
        }
        if (failed) {
            PyErr_NoMemory();
        } else {
            Py_ssize_t bytes = f.types * (Py_ssize_t)sizeof(int64_t);
            result = Py_BuildValue("(y#y#)", (const char *)f.examples, bytes,
                                   (const char *)f.counts, bytes);
        }
        factorizer_free(&f);
    }
    release_buffers(views, 3);
    return result;
}

/* A growable array of fixed-size items. */
typedef struct {
    char *data;
    Py_ssize_t bytes, capacity;
} Vec;

static inline int push(Vec *v, const void *item, Py_ssize_t size) {
    if (v->bytes + size > v->capacity) {
        Py_ssize_t capacity = v->capacity ? 2 * v->capacity : 1 << 16;
        char *grown = realloc(v->data, capacity);
        if (!grown) return -1;
        v->data = grown;
        v->capacity = capacity;
    }
    memcpy(v->data + v->bytes, item, size);
    v->bytes += size;
    return 0;
}

/* The bytes of the whitespace character (to Python's str.isspace) at u[i], 0 if none: ASCII
 * 9-13, 28-32; U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F and
 * U+3000 (tests/test_token_kernel.py checks every code point against Python's). */
static inline int space_width(const unsigned char *u, int64_t i, int64_t size) {
    unsigned char c = u[i];
    if (c < 0x80) return c == 32 || (c >= 9 && c <= 13) || (c >= 28 && c <= 31);
    if (c == 0xC2) return i + 1 < size && (u[i + 1] == 0x85 || u[i + 1] == 0xA0) ? 2 : 0;
    if (c < 0xE1 || c > 0xE3 || i + 2 >= size) return 0;
    unsigned char b = u[i + 1], d = u[i + 2];
    if (c == 0xE1) return b == 0x9A && d == 0x80 ? 3 : 0;
    if (c == 0xE3) return b == 0x80 && d == 0x80 ? 3 : 0;
    if (b == 0x80) return d <= 0x8A || d == 0xA8 || d == 0xA9 || d == 0xAF ? 3 : 0;
    return b == 0x81 && d == 0x9F ? 3 : 0;
}

/* One side (the sources or the targets) of a chunk of lines. */
typedef struct {
    Factorizer types; /* examples: where each type's first token starts */
    Vec ids;          /* int32: the local type of every token */
    Vec lengths;      /* int64: the tokens of every text */
    Vec ends;         /* int64: where each type's first token ends */
    Vec salts;        /* uint8: each type's joiner bits */
    int64_t tokens;   /* of the text being read */
} Side;

static int add_token(Side *side, const unsigned char *u, int64_t size, int64_t start, int64_t end,
                     uint8_t salt) {
    uint64_t a, b;
    key_of(u, size, start, end - start, salt, &a, &b);
    int is_new;
    int64_t type = type_of(&side->types, a, b, start, &is_new);
    if (type < 0) return -1;
    int32_t id = (int32_t)type;
    if (is_new && (push(&side->ends, &end, 8) || push(&side->salts, &salt, 1))) return -1;
    side->tokens++;
    return push(&side->ids, &id, 4);
}

enum { PAIRS_OK, PAIRS_MALFORMED, PAIRS_NO_MEMORY, PAIRS_DECLINED };

/* A tab or a newline ends a text: the source's (a tab) or the target's (a newline), which
 * must hold a token. */
static int end_text(Side sides[2], int *side, unsigned char c) {
    if (sides[*side].tokens == 0 || *side != (c == 10)) return PAIRS_MALFORMED;
    if (push(&sides[*side].lengths, &sides[*side].tokens, 8)) return PAIRS_NO_MEMORY;
    sides[*side].tokens = 0;
    *side = c == 9;
    return PAIRS_OK;
}

/* Tokens of every line `source<TAB>target<NEWLINE>` of u, split at whitespace, each side's
 * numbered by its own types. */
static int split_pairs(const unsigned char *u, int64_t size, Side sides[2]) {
    int side = 0, inside = 0, status;
    int64_t start = 0;
    if (size == 0) return PAIRS_MALFORMED;
    for (int64_t i = 0; i < size; i++) {
        unsigned char c = u[i];
        int width = c == 9 || c == 10 ? 1 : space_width(u, i, size);
        if (width) {
            if (inside && add_token(&sides[side], u, size, start, i, 0)) return PAIRS_NO_MEMORY;
            inside = 0;
            if ((c == 9 || c == 10) && (status = end_text(sides, &side, c))) return status;
            i += width - 1;
        } else if (!inside) {
            start = i;
            inside = 1;
        }
    }
    return inside || side ? PAIRS_MALFORMED : PAIRS_OK; /* the last line ends with a newline */
}

/* Character classes, as seqlab.tasks.vector_tokenize gives them. */
#define SPACE 1
#define WORD 2
#define ALNUM 4
#define CONNECTOR 8

/* The code point at u[i] (valid UTF-8) and its bytes; -1 past the end. */
static inline int32_t code_at(const unsigned char *u, int64_t i, int64_t size, int *width) {
    unsigned char c = u[i];
    *width = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (i + *width > size) return -1;
    switch (*width) {
    case 1: return c;
    case 2: return (c & 0x1F) << 6 | (u[i + 1] & 0x3F);
    case 3: return (c & 0x0F) << 12 | (u[i + 1] & 0x3F) << 6 | (u[i + 2] & 0x3F);
    default:
        return (c & 0x07) << 18 | (u[i + 1] & 0x3F) << 12 | (u[i + 2] & 0x3F) << 6 |
               (u[i + 3] & 0x3F);
    }
}

/* The word tokenizer's tokens are known one token late: a token written against the next
 * one takes a joiner after it when the next starts with a letter or digit. */
typedef struct {
    int held;
    int64_t start, end;
    uint8_t salt;
} Pending;

static int flush(Side *side, Pending *pending, const unsigned char *u, int64_t size) {
    if (!pending->held) return 0;
    pending->held = 0;
    return add_token(side, u, size, pending->start, pending->end, pending->salt);
}

/* A token starts at `start` (its first character of class `cls`): its joiner bits, and the
 * previous token's, which is then complete. */
static int token_starts(Side *side, Pending *pending, const unsigned char *u, int64_t size,
                        int64_t start, uint8_t cls, uint8_t *salt) {
    *salt = 0;
    if (pending->held && pending->end == start) {
        if (cls & ALNUM)
            pending->salt |= 2;
        else
            *salt = 1;
    }
    return flush(side, pending, u, size);
}

/* Tokens of every line `source<TAB>target<NEWLINE>` of u by the word tokenizer
 * (WordTokenizer.encode): runs of word characters, with connectors between two word
 * characters inside them, and every other character that is not whitespace a token of its
 * own, with joiner bits. classes: the class bits of every code point below 0x10000; a chunk
 * holding a character beyond is declined (the numpy code reads it). */
static int split_word_pairs(const unsigned char *u, int64_t size, const uint8_t *classes,
                            Side sides[2]) {
    int side = 0, open = 0, width, status;
    int64_t open_start = 0;
    uint8_t open_salt = 0, previous = SPACE, salt;
    Pending pending = {0, 0, 0, 0};
    if (size == 0) return PAIRS_MALFORMED;
    for (int64_t i = 0; i < size; i += width) {
        int32_t code = code_at(u, i, size, &width);
        if (code < 0) return PAIRS_MALFORMED;
        if (code > 0xFFFF) return PAIRS_DECLINED;
        uint8_t cls = classes[code];
        int inner = 0; /* a connector between two word characters */
        if ((cls & CONNECTOR) && (previous & WORD) && i + width < size) {
            int next_width;
            int32_t next = code_at(u, i + width, size, &next_width);
            if (next > 0xFFFF) return PAIRS_DECLINED;
            inner = next >= 0 && (classes[next] & WORD);
        }
        previous = cls;
        if ((cls & WORD) || inner) {
            if (!open) {
                if (token_starts(&sides[side], &pending, u, size, i, cls, &open_salt))
                    return PAIRS_NO_MEMORY;
                open = 1;
                open_start = i;
            }
            continue;
        }
        if (open) { /* the run ends here */
            pending = (Pending){1, open_start, i, open_salt};
            open = 0;
        }
        if (cls & SPACE) {
            if (flush(&sides[side], &pending, u, size)) return PAIRS_NO_MEMORY;
            if ((code == 9 || code == 10) && (status = end_text(sides, &side, (unsigned char)code)))
                return status;
            continue;
        }
        if (token_starts(&sides[side], &pending, u, size, i, cls, &salt)) return PAIRS_NO_MEMORY;
        pending = (Pending){1, i, i + width, salt}; /* a mark: a token of its own */
    }
    if (open || pending.held || side) return PAIRS_MALFORMED; /* the last line ends with a
                                                               newline */
    return PAIRS_OK;
}

static PyObject *side_tuple(Side *side) {
    Factorizer *f = &side->types;
    Py_ssize_t bytes = f->types * 8;
    return Py_BuildValue("(y#y#y#y#y#y#y#y#)", side->ids.data, side->ids.bytes,
                         side->lengths.data, side->lengths.bytes, (const char *)f->first, bytes,
                         (const char *)f->second, bytes, (const char *)f->examples, bytes,
                         side->ends.data, side->ends.bytes, side->salts.data, side->salts.bytes,
                         (const char *)f->counts, bytes);
}

/* whitespace_pairs(utf8) and word_pairs(utf8, classes). */
static PyObject *pairs(PyObject *args, int word) {
    Py_buffer view, classes = {0};
    if (word ? !PyArg_ParseTuple(args, "y*y*:word_pairs", &view, &classes)
             : !PyArg_ParseTuple(args, "y*:whitespace_pairs", &view))
        return NULL;
    if (word && classes.len != 0x10000) {
        PyBuffer_Release(&view);
        PyBuffer_Release(&classes);
        PyErr_SetString(PyExc_ValueError, "word_pairs: classes of 65536 code points expected");
        return NULL;
    }
    Side sides[2];
    memset(sides, 0, sizeof(sides));
    int status = PAIRS_NO_MEMORY;
    if (!factorizer_init(&sides[0].types) && !factorizer_init(&sides[1].types)) {
        Py_BEGIN_ALLOW_THREADS
        status = word ? split_word_pairs(view.buf, view.len, classes.buf, sides)
                      : split_pairs(view.buf, view.len, sides);
        Py_END_ALLOW_THREADS
    }
    PyObject *result = NULL;
    if (status == PAIRS_NO_MEMORY) {
        PyErr_NoMemory();
    } else if (status == PAIRS_MALFORMED) {
        result = Py_NewRef(Py_None);
    } else if (status == PAIRS_DECLINED) {
        result = Py_NewRef(Py_False);
    } else {
        PyObject *source = side_tuple(&sides[0]);
        PyObject *target = source ? side_tuple(&sides[1]) : NULL;
        if (target) result = PyTuple_Pack(2, source, target);
        Py_XDECREF(source);
        Py_XDECREF(target);
    }
    for (int k = 0; k < 2; k++) {
        factorizer_free(&sides[k].types);
        free(sides[k].ids.data);
        free(sides[k].lengths.data);
        free(sides[k].ends.data);
        free(sides[k].salts.data);
    }
    PyBuffer_Release(&view);
    if (word) PyBuffer_Release(&classes);
    return result;
}

static PyObject *whitespace_pairs(PyObject *self, PyObject *args) { return pairs(args, 0); }

static PyObject *word_pairs(PyObject *self, PyObject *args) { return pairs(args, 1); }

/* Texts in word indices -> the offsets of their pieces: out[0] = 0, out[t + 1] = out[t] + the
 * pieces of text t's words (counts: pieces of each word). */
static PyObject *piece_offsets(PyObject *self, PyObject *args) {
    PyObject *objects[4];
    static const Py_ssize_t sizes[4] = {4, 8, 8, 8};
    static const int writable[4] = {0, 0, 0, 1};
    static const char *names[4] = {"words", "offsets", "counts", "out"};
    Py_buffer views[4];
    if (!PyArg_ParseTuple(args, "OOOO:piece_offsets", &objects[0], &objects[1], &objects[2],
                          &objects[3]) ||
        get_buffers(objects, views, 4, sizes, writable, names))
        return NULL;
    const int32_t *words = views[0].buf;
    const int64_t *offsets = views[1].buf, *counts = views[2].buf;
    int64_t *out = views[3].buf;
    Py_ssize_t n = views[0].len / 4, texts = views[1].len / 8 - 1, types = views[2].len / 8;
    int bad = texts < 0 || views[3].len / 8 != texts + 1;
    Py_BEGIN_ALLOW_THREADS
    if (!bad) out[0] = 0;
    for (Py_ssize_t t = 0; t < texts && !bad; t++) {
        int64_t total = 0;
        if (offsets[t] < 0 || offsets[t] > offsets[t + 1] || offsets[t + 1] > n) {
            bad = 1;
            break;
        }
        for (int64_t k = offsets[t]; k < offsets[t + 1]; k++) {
            if (words[k] < 0 || words[k] >= types) {
                bad = 1;
                break;
            }
            total += counts[words[k]];
        }
        out[t + 1] = out[t] + total;
    }
    Py_END_ALLOW_THREADS
    release_buffers(views, 4);
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "piece_offsets: offsets or word indices out of range");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* Words -> their pieces, one after another, each piece written as table[piece] (table:
 * sentencepiece id -> the caller's id; small, so it stays in the cache). entries[2w],
 * entries[2w + 1]: word w's piece where it is one piece, else where its pieces start in
 * pieces; and how many it has (one random read for a one-piece word, as a text's frequent
 * words mostly are, where separate arrays of starts and counts take three). */
static PyObject *expand_pieces(PyObject *self, PyObject *args) {
    PyObject *objects[5];
    static const Py_ssize_t sizes[5] = {4, 16, 4, 4, 4};
    static const int writable[5] = {0, 0, 0, 0, 1};
    static const char *names[5] = {"words", "entries", "pieces", "table", "out"};
    Py_buffer views[5];
    if (!PyArg_ParseTuple(args, "OOOOO:expand_pieces", &objects[0], &objects[1], &objects[2],
                          &objects[3], &objects[4]) ||
        get_buffers(objects, views, 5, sizes, writable, names))
        return NULL;
    const int32_t *words = views[0].buf, *pieces = views[2].buf, *table = views[3].buf;
    const int64_t *entries = views[1].buf;
    int32_t *out = views[4].buf;
    Py_ssize_t n = views[0].len / 4, types = views[1].len / 16, size = views[2].len / 4;
    Py_ssize_t ids = views[3].len / 4, room = views[4].len / 4, done = 0;
    int bad = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < n && !bad; k++) {
        int32_t word = words[k];
        if (word < 0 || word >= types) {
            bad = 1;
            break;
        }
        int64_t where = entries[2 * word], count = entries[2 * word + 1];
        if (count == 1) { /* where: the piece itself */
            if (where < 0 || where >= ids || done >= room) {
                bad = 1;
                break;
            }
            out[done++] = table[where];
            continue;
        }
        if (where < 0 || count < 0 || where + count > size || done + count > room) {
            bad = 1;
            break;
        }
        for (int64_t j = 0; j < count; j++) {
            int32_t piece = pieces[where + j];
            if (piece < 0 || piece >= ids) {
                bad = 1;
                break;
            }
            out[done++] = table[piece];
        }
    }
    Py_END_ALLOW_THREADS
    release_buffers(views, 5);
    if (bad || done != room) {
        PyErr_SetString(PyExc_ValueError, "expand_pieces: indices out of range, or the output "
                                          "is not the size of the pieces");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* TypeTable.add on the table's own slots (rows of first, second, id + 1; all 0 when free),
 * one key after another: each key's id (int64) into ids; new keys take the ids from `count`
 * on, and the batch position of each is written into examples. Returns the new count. The
 * caller grows the table first (at most half full after the batch). A slot changes from free
 * to its final row once, key fields first: TypeTable.lookup may read the table meanwhile. */
static PyObject *type_table_add(PyObject *self, PyObject *args) {
    PyObject *objects[5];
    static const Py_ssize_t sizes[5] = {24, 8, 8, 8, 8};
    static const int writable[5] = {1, 0, 0, 1, 1};
    static const char *names[5] = {"slots", "first", "second", "ids", "examples"};
    Py_buffer views[5];
    Py_ssize_t count;
    if (!PyArg_ParseTuple(args, "OnOOOO:type_table_add", &objects[0], &count, &objects[1],
                          &objects[2], &objects[3], &objects[4]))
        return NULL;
    if (get_buffers(objects, views, 5, sizes, writable, names)) return NULL;
    uint64_t *slots = views[0].buf;
    const uint64_t *first = views[1].buf, *second = views[2].buf;
    int64_t *ids = views[3].buf, *examples = views[4].buf;
    Py_ssize_t size = views[0].len / 24, n = views[1].len / 8, added = 0;
    int bits = 0;
    while (((Py_ssize_t)1 << bits) < size) bits++;
    int bad = ((Py_ssize_t)1 << bits) != size || bits < 1 || views[2].len / 8 != n ||
              views[3].len / 8 != n || views[4].len / 8 != n || 2 * (count + n) > size;
    if (!bad) {
        Py_BEGIN_ALLOW_THREADS
        size_t mask = (size_t)size - 1;
        for (Py_ssize_t i = 0; i < n; i++) {
            size_t slot = first[i] >> (64 - bits);
            for (;;) {
                uint64_t *row = slots + 3 * slot;
                if (row[2] == 0) {
                    row[0] = first[i];
                    row[1] = second[i];
                    __atomic_store_n(&row[2], (uint64_t)(count + added + 1), __ATOMIC_RELEASE);
                    ids[i] = count + added;
                    examples[added++] = i;
                    break;
                }
                if (row[0] == first[i] && row[1] == second[i]) {
                    ids[i] = (int64_t)row[2] - 1;
                    break;
                }
                slot = (slot + 1) & mask;
            }
        }
        Py_END_ALLOW_THREADS
    }
    release_buffers(views, 5);
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "type_table_add: a table of 2**k rows of 3, at most "
                                          "half full after the batch, and arrays of one length");
        return NULL;
    }
    return PyLong_FromSsize_t(count + added);
}

static PyMethodDef methods[] = {
    {"token_keys", token_keys, METH_VARARGS,
     "token_keys(utf8, starts, ends, salt, first, second): write the two 64-bit keys of each "
     "token utf8[starts[i]:ends[i]] with joiner bits salt[i] (int64, int64, uint8 in; "
     "uint64, uint64 out)."},
    {"factorize_keys", factorize_keys, METH_VARARGS,
     "factorize_keys(first, second, ids) -> (examples, counts): write the dense id of each "
     "key (int32, in the order keys first occur) into ids; return the position of each id's "
     "first key and the keys of each id, as int64 bytes."},
    {"piece_offsets", piece_offsets, METH_VARARGS,
     "piece_offsets(words, offsets, counts, out): texts in word indices (int32, with int64 "
     "offsets) -> the int64 offsets of their pieces, given each word's piece count."},
    {"expand_pieces", expand_pieces, METH_VARARGS,
     "expand_pieces(words, entries, pieces, table, out): the pieces of every word (int32 word "
     "indices) into out, each as table[piece]; entries (int64, 2 a word): the word's piece "
     "where it is one piece, else where its pieces start in pieces; and how many it has."},
    {"type_table_add", type_table_add, METH_VARARGS,
     "type_table_add(slots, count, first, second, ids, examples) -> count: TypeTable.add one "
     "key after another on the table's rows (first, second, id + 1)."},
    {"whitespace_pairs", whitespace_pairs, METH_VARARGS,
     "whitespace_pairs(utf8) -> None | (source, target): the lines source<TAB>target<NEWLINE> "
     "of valid UTF-8 split at whitespace (str.split), each side as bytes (ids int32, lengths, "
     "first, second, starts, ends int64, salts uint8, counts int64): the local type of every "
     "token, the tokens of every text, and each type's key, first token, joiner bits and "
     "count. None unless every line holds one tab, a token on each side, and a newline at its "
     "end."},
    {"word_pairs", word_pairs, METH_VARARGS,
     "word_pairs(utf8, classes) -> None | False | (source, target): as whitespace_pairs, by "
     "the word tokenizer (classes: the class bits of the 65536 code points of the Basic "
     "Multilingual Plane); False where a character lies beyond it (the caller's numpy code "
     "reads the chunk)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_token_kernel",
    "Compiled token kernels (see seqlab.tasks.vector_tokenize).", -1, methods,
};

PyMODINIT_FUNC PyInit__token_kernel(void) { return PyModule_Create(&module); }
