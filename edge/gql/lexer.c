/*  lexer.c: GraphQL source text to tokens (spec section 2.1, October 2021).
 *
 *  Ignored tokens (white space, commas, comments, line terminators and the
 *  byte order mark) are skipped. Names and numbers point into the source;
 *  strings are decoded into the arena, escapes resolved and block strings
 *  dedented, so the parser never looks at raw string text. The source has
 *  already been checked to be valid UTF-8 (gql_parse does it), so multi-byte
 *  sequences are copied whole.
 */
#include "gql_internal.h"
#include "wire.h"

#include <string.h>

void
gql_lex_init (gql_lexer_t *lx, gql_arena_t *a, const char *src, size_t len)
{
    memset (lx, 0, sizeof *lx);
    lx->src = src;
    lx->len = len;
    lx->arena = a;
    lx->tok.kind = GQL_TOK_SOF;
}

static int
s_is_name_start (int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int
s_is_name_char (int c)
{
    return s_is_name_start (c) || (c >= '0' && c <= '9');
}

static int
s_is_digit (int c)
{
    return c >= '0' && c <= '9';
}

static int
s_hex (int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

//  Decode the UTF-8 sequence at pos (valid by then) into a code point.
static uint32_t
s_code_point (const gql_lexer_t *lx, size_t pos, size_t *seqlen)
{
    const unsigned char *s = (const unsigned char *) lx->src + pos;
    size_t k = wire_utf8_seq (s, lx->len - pos);
    if (k == 0)
        k = 1;
    *seqlen = k;
    switch (k) {
        case 1: return s[0];
        case 2: return (uint32_t) (s[0] & 0x1F) << 6 | (s[1] & 0x3F);
        case 3:
            return (uint32_t) (s[0] & 0x0F) << 12 | (uint32_t) (s[1] & 0x3F) << 6 | (s[2] & 0x3F);
        default:
            return (uint32_t) (s[0] & 0x07) << 18 | (uint32_t) (s[1] & 0x3F) << 12
                 | (uint32_t) (s[2] & 0x3F) << 6 | (s[3] & 0x3F);
    }
}

//  How messages show the character at pos: "\"x\"" for printable ASCII,
//  "U+XXXX" otherwise, "<EOF>" at the end.
static const char *
s_char_desc (gql_lexer_t *lx, size_t pos)
{
    if (pos >= lx->len)
        return "<EOF>";
    size_t k;
    uint32_t cp = s_code_point (lx, pos, &k);
    if (cp == '"')
        return "'\"'";
    if (cp >= 0x20 && cp < 0x7F)
        return gql_sprintf (lx->arena, "\"%c\"", (char) cp);
    return gql_sprintf (lx->arena, "U+%04X", (unsigned) cp);
}

static int
s_fail (gql_lexer_t *lx, size_t at, const char *fmt, ...) GQL_PRINTF (3, 4);

static int
s_fail (gql_lexer_t *lx, size_t at, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    char *msg = gql_vsprintf (lx->arena, fmt, ap);
    va_end (ap);
    lx->err = msg ? msg : "Syntax Error: out of memory.";
    lx->err_loc = (uint32_t) at;
    return -1;
}

static const char *
s_or (const char *s)
{
    return s ? s : "?";
}

static int
s_number (gql_lexer_t *lx, size_t start)
{
    const char *s = lx->src;
    size_t n = lx->len, pos = start;
    int is_float = 0;
    if (s[pos] == '-')
        pos++;
    if (pos < n && s[pos] == '0') {
        pos++;
        if (pos < n && s_is_digit (s[pos]))
            return s_fail (lx, pos, "Syntax Error: Invalid number, unexpected digit after 0: %s.",
                           s_or (s_char_desc (lx, pos)));
    }
    else {
        if (pos >= n || !s_is_digit (s[pos]))
            return s_fail (lx, pos, "Syntax Error: Invalid number, expected digit but got: %s.",
                           s_or (s_char_desc (lx, pos)));
        while (pos < n && s_is_digit (s[pos]))
            pos++;
    }
    if (pos < n && s[pos] == '.') {
        is_float = 1;
        pos++;
        if (pos >= n || !s_is_digit (s[pos]))
            return s_fail (lx, pos, "Syntax Error: Invalid number, expected digit but got: %s.",
                           s_or (s_char_desc (lx, pos)));
        while (pos < n && s_is_digit (s[pos]))
            pos++;
    }
    if (pos < n && (s[pos] == 'e' || s[pos] == 'E')) {
        is_float = 1;
        pos++;
        if (pos < n && (s[pos] == '+' || s[pos] == '-'))
            pos++;
        if (pos >= n || !s_is_digit (s[pos]))
            return s_fail (lx, pos, "Syntax Error: Invalid number, expected digit but got: %s.",
                           s_or (s_char_desc (lx, pos)));
        while (pos < n && s_is_digit (s[pos]))
            pos++;
    }
    //  A number may not run into a name or a dot: "1x", "1.2.3".
    if (pos < n && (s[pos] == '.' || s_is_name_start (s[pos])))
        return s_fail (lx, pos, "Syntax Error: Invalid number, expected digit but got: %s.",
                       s_or (s_char_desc (lx, pos)));
    lx->tok.kind = is_float ? GQL_TOK_FLOAT : GQL_TOK_INT;
    lx->tok.value = s + start;
    lx->tok.len = pos - start;
    lx->pos = pos;
    return 0;
}

static size_t
s_put_utf8 (char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char) cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char) (0xC0 | (cp >> 6));
        o[1] = (char) (0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char) (0xE0 | (cp >> 12));
        o[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char) (0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char) (0xF0 | (cp >> 18));
    o[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char) (0x80 | (cp & 0x3F));
    return 4;
}

//  Four hex digits at pos, or -1.
static long
s_hex4 (const gql_lexer_t *lx, size_t pos)
{
    if (pos > lx->len || lx->len - pos < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = s_hex ((unsigned char) lx->src[pos + (size_t) i]);
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

//  The escape text from at to (at most) end, for a message.
static const char *
s_escape_text (gql_lexer_t *lx, size_t at, size_t end)
{
    if (end > lx->len)
        end = lx->len;
    return s_or (gql_strndup (lx->arena, lx->src + at, end - at));
}

//  A \u escape at pos (the backslash). Writes the character to *o and
//  returns the escape's length, or 0 after recording an error.
static size_t
s_unicode_escape (gql_lexer_t *lx, size_t pos, char **o)
{
    const char *s = lx->src;
    size_t n = lx->len;
    if (pos + 2 < n && s[pos + 2] == '{') {
        //  \u{X...}: any scalar value up to U+10FFFF, no surrogates.
        uint32_t cp = 0;
        size_t i = pos + 3;
        int digits = 0;
        while (i < n && s_hex ((unsigned char) s[i]) >= 0 && cp <= 0x10FFFF) {
            cp = cp << 4 | (uint32_t) s_hex ((unsigned char) s[i]);
            i++;
            digits++;
        }
        if (i >= n || s[i] != '}' || digits == 0 || cp > 0x10FFFF
            || (cp >= 0xD800 && cp <= 0xDFFF)) {
            size_t end = i;
            while (end < n && end - pos < 16 && s[end] != '"' && s[end] != '}')
                end++;
            if (end < n && s[end] == '}')
                end++;
            s_fail (lx, pos, "Syntax Error: Invalid Unicode escape sequence: \"%s\".",
                    s_escape_text (lx, pos, end));
            return 0;
        }
        *o += s_put_utf8 (*o, cp);
        return i + 1 - pos;
    }
    long v = s_hex4 (lx, pos + 2);
    if (v < 0) {
        //  Quote at most the four characters the escape takes, and not
        //  the string's closing quote.
        size_t end = pos + 2;
        while (end < n && end < pos + 6 && s[end] != '"' && s[end] != '\\'
               && (unsigned char) s[end] >= 0x20)
            end++;
        s_fail (lx, pos, "Syntax Error: Invalid Unicode escape sequence: \"%s\".",
                s_escape_text (lx, pos, end));
        return 0;
    }
    if (v >= 0xD800 && v <= 0xDBFF) {
        //  The legacy form of a supplementary character: a leading
        //  surrogate escape immediately followed by a trailing one.
        long t =
            pos + 12 <= n && s[pos + 6] == '\\' && s[pos + 7] == 'u' ? s_hex4 (lx, pos + 8) : -1;
        if (t < 0xDC00 || t > 0xDFFF) {
            s_fail (lx, pos, "Syntax Error: Invalid Unicode escape sequence: \"%s\".",
                    s_escape_text (lx, pos, pos + 6));
            return 0;
        }
        uint32_t cp = 0x10000 + (((uint32_t) v - 0xD800) << 10) + ((uint32_t) t - 0xDC00);
        *o += s_put_utf8 (*o, cp);
        return 12;
    }
    if (v >= 0xDC00 && v <= 0xDFFF) {
        s_fail (lx, pos, "Syntax Error: Invalid Unicode escape sequence: \"%s\".",
                s_escape_text (lx, pos, pos + 6));
        return 0;
    }
    *o += s_put_utf8 (*o, (uint32_t) v);
    return 6;
}

static int
s_string (gql_lexer_t *lx, size_t start)
{
    const char *s = lx->src;
    size_t n = lx->len;
    //  Find the end first: the decoded text is never longer than the
    //  source text, so one allocation of that size is enough.
    size_t end = start + 1;
    while (end < n && s[end] != '"' && s[end] != '\n' && s[end] != '\r') {
        if (s[end] == '\\' && end + 1 < n && s[end + 1] != '\n' && s[end + 1] != '\r')
            end++;
        end++;
    }
    char *buf = gql_alloc (lx->arena, end - start + 1);
    if (!buf)
        return s_fail (lx, start, "Syntax Error: out of memory.");
    char *o = buf;
    size_t pos = start + 1;
    while (pos < n) {
        unsigned char c = (unsigned char) s[pos];
        if (c == '"') {
            lx->tok.kind = GQL_TOK_STRING;
            lx->tok.value = buf;
            lx->tok.len = (size_t) (o - buf);
            lx->pos = pos + 1;
            return 0;
        }
        if (c == '\n' || c == '\r')
            break;
        if (c < 0x20 && c != '\t')
            return s_fail (lx, pos, "Syntax Error: Invalid character within String: %s.",
                           s_or (s_char_desc (lx, pos)));
        if (c == '\\') {
            char e = pos + 1 < n ? s[pos + 1] : 0;
            switch (e) {
                case '"': *o++ = '"'; pos += 2; continue;
                case '\\': *o++ = '\\'; pos += 2; continue;
                case '/': *o++ = '/'; pos += 2; continue;
                case 'b': *o++ = '\b'; pos += 2; continue;
                case 'f': *o++ = '\f'; pos += 2; continue;
                case 'n': *o++ = '\n'; pos += 2; continue;
                case 'r': *o++ = '\r'; pos += 2; continue;
                case 't': *o++ = '\t'; pos += 2; continue;
                case 'u': {
                    size_t k = s_unicode_escape (lx, pos, &o);
                    if (k == 0)
                        return -1;
                    pos += k;
                    continue;
                }
                default:
                    if (pos + 1 >= n || e == '\n' || e == '\r')
                        break;
                    size_t k;
                    s_code_point (lx, pos + 1, &k);
                    return s_fail (lx, pos,
                                   "Syntax Error: Invalid character escape sequence: \"%s\".",
                                   s_escape_text (lx, pos, pos + 1 + k));
            }
            break;
        }
        *o++ = (char) c;
        pos++;
    }
    return s_fail (lx, pos, "Syntax Error: Unterminated string.");
}

static int
s_is_blank (const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t')
            return 0;
    return 1;
}

//  The spec's BlockStringValue: remove the common indentation of all lines
//  but the first, then leading and trailing blank lines.
static int
s_block_value (gql_lexer_t *lx, const char *raw, size_t len, size_t start)
{
    //  Pass 1: common indent, and the first and last non-blank lines.
    size_t common = SIZE_MAX;
    size_t line_no = 0, first = SIZE_MAX, last = 0;
    size_t i = 0;
    while (1) {
        size_t b = i;
        while (i < len && raw[i] != '\n' && raw[i] != '\r')
            i++;
        size_t indent = 0;
        while (b + indent < i && (raw[b + indent] == ' ' || raw[b + indent] == '\t'))
            indent++;
        if (line_no > 0 && indent < i - b && indent < common)
            common = indent;
        if (!s_is_blank (raw + b, i - b)) {
            if (first == SIZE_MAX)
                first = line_no;
            last = line_no;
        }
        if (i >= len)
            break;
        i += (raw[i] == '\r' && i + 1 < len && raw[i + 1] == '\n') ? 2 : 1;
        line_no++;
    }
    if (common == SIZE_MAX)
        common = 0;
    char *buf = gql_alloc (lx->arena, len + 1);
    if (!buf)
        return s_fail (lx, start, "Syntax Error: out of memory.");
    char *o = buf;
    //  Pass 2: copy lines first..last, dedented, joined by LF.
    line_no = 0;
    i = 0;
    while (first != SIZE_MAX) {
        size_t b = i;
        while (i < len && raw[i] != '\n' && raw[i] != '\r')
            i++;
        if (line_no >= first && line_no <= last) {
            size_t from = b;
            if (line_no > 0)
                from = b + common < i ? b + common : i;
            if (line_no > first)
                *o++ = '\n';
            memcpy (o, raw + from, i - from);
            o += i - from;
        }
        if (i >= len || line_no >= last)
            break;
        i += (raw[i] == '\r' && i + 1 < len && raw[i + 1] == '\n') ? 2 : 1;
        line_no++;
    }
    lx->tok.kind = GQL_TOK_BLOCK_STRING;
    lx->tok.value = buf;
    lx->tok.len = (size_t) (o - buf);
    return 0;
}

static int
s_block_string (gql_lexer_t *lx, size_t start)
{
    const char *s = lx->src;
    size_t n = lx->len;
    char *raw = gql_alloc (lx->arena, n - start + 1);
    if (!raw)
        return s_fail (lx, start, "Syntax Error: out of memory.");
    char *o = raw;
    size_t pos = start + 3;
    while (pos < n) {
        unsigned char c = (unsigned char) s[pos];
        if (c == '"' && n - pos >= 3 && s[pos + 1] == '"' && s[pos + 2] == '"') {
            if (s_block_value (lx, raw, (size_t) (o - raw), start) != 0)
                return -1;
            lx->pos = pos + 3;
            return 0;
        }
        if (c == '\\' && n - pos >= 4 && memcmp (s + pos + 1, "\"\"\"", 3) == 0) {
            memcpy (o, "\"\"\"", 3);
            o += 3;
            pos += 4;
            continue;
        }
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            return s_fail (lx, pos, "Syntax Error: Invalid character within String: %s.",
                           s_or (s_char_desc (lx, pos)));
        *o++ = (char) c;
        pos++;
    }
    return s_fail (lx, pos, "Syntax Error: Unterminated string.");
}

//  Past the ignored tokens (white space, line terminators, commas,
//  comments, byte order marks) from pos.
static size_t
s_skip_ignored (const char *s, size_t n, size_t pos)
{
    while (pos < n) {
        char c = s[pos];
        if (c == ' ' || c == '\t' || c == ',' || c == '\n' || c == '\r')
            pos++;
        else if (c == '#') {
            while (pos < n && s[pos] != '\n' && s[pos] != '\r')
                pos++;
        }
        else if ((unsigned char) c == 0xEF && n - pos >= 3
                 && (unsigned char) s[pos + 1] == 0xBB && (unsigned char) s[pos + 2] == 0xBF)
            pos += 3;
        else
            break;
    }
    return pos;
}

int
gql_lex_next (gql_lexer_t *lx)
{
    const char *s = lx->src;
    size_t n = lx->len;
    size_t pos = s_skip_ignored (s, n, lx->pos);
    lx->tok.start = (uint32_t) pos;
    lx->tok.value = NULL;
    lx->tok.len = 0;
    if (pos >= n) {
        lx->tok.kind = GQL_TOK_EOF;
        lx->tok.end = (uint32_t) pos;
        lx->pos = pos;
        return 0;
    }
    char c = s[pos];
    gql_tokkind_t kind;
    switch (c) {
        case '!': kind = GQL_TOK_BANG; break;
        case '$': kind = GQL_TOK_DOLLAR; break;
        case '&': kind = GQL_TOK_AMP; break;
        case '(': kind = GQL_TOK_PAREN_L; break;
        case ')': kind = GQL_TOK_PAREN_R; break;
        case ':': kind = GQL_TOK_COLON; break;
        case '=': kind = GQL_TOK_EQUALS; break;
        case '@': kind = GQL_TOK_AT; break;
        case '[': kind = GQL_TOK_BRACKET_L; break;
        case ']': kind = GQL_TOK_BRACKET_R; break;
        case '{': kind = GQL_TOK_BRACE_L; break;
        case '|': kind = GQL_TOK_PIPE; break;
        case '}': kind = GQL_TOK_BRACE_R; break;
        case '.':
            if (n - pos >= 3 && s[pos + 1] == '.' && s[pos + 2] == '.') {
                lx->tok.kind = GQL_TOK_SPREAD;
                lx->pos = pos + 3;
                lx->tok.end = (uint32_t) lx->pos;
                return 0;
            }
            return s_fail (lx, pos, "Syntax Error: Unexpected character: \".\".");
        case '"': {
            int rc = (n - pos >= 3 && s[pos + 1] == '"' && s[pos + 2] == '"')
                   ? s_block_string (lx, pos) : s_string (lx, pos);
            lx->tok.end = (uint32_t) lx->pos;
            return rc;
        }
        case '\'':
            return s_fail (lx, pos, "Syntax Error: Unexpected single quote character ('), "
                                    "did you mean to use a double quote (\")?");
        default:
            if (c == '-' || s_is_digit (c)) {
                int rc = s_number (lx, pos);
                lx->tok.end = (uint32_t) lx->pos;
                return rc;
            }
            if (s_is_name_start (c)) {
                size_t end = pos + 1;
                while (end < n && s_is_name_char (s[end]))
                    end++;
                lx->tok.kind = GQL_TOK_NAME;
                lx->tok.value = s + pos;
                lx->tok.len = end - pos;
                lx->pos = end;
                lx->tok.end = (uint32_t) end;
                return 0;
            }
            return s_fail (lx, pos, "Syntax Error: Unexpected character: %s.",
                           s_or (s_char_desc (lx, pos)));
    }
    lx->tok.kind = kind;
    lx->pos = pos + 1;
    lx->tok.end = (uint32_t) lx->pos;
    return 0;
}

const char *
gql_tok_desc (gql_arena_t *a, const gql_token_t *t)
{
    static const char *const punct[] = {
        [GQL_TOK_BANG] = "\"!\"", [GQL_TOK_DOLLAR] = "\"$\"", [GQL_TOK_AMP] = "\"&\"",
        [GQL_TOK_PAREN_L] = "\"(\"", [GQL_TOK_PAREN_R] = "\")\"", [GQL_TOK_SPREAD] = "\"...\"",
        [GQL_TOK_COLON] = "\":\"", [GQL_TOK_EQUALS] = "\"=\"", [GQL_TOK_AT] = "\"@\"",
        [GQL_TOK_BRACKET_L] = "\"[\"", [GQL_TOK_BRACKET_R] = "\"]\"", [GQL_TOK_BRACE_L] = "\"{\"",
        [GQL_TOK_PIPE] = "\"|\"", [GQL_TOK_BRACE_R] = "\"}\"",
    };
    const char *d = NULL;
    switch (t->kind) {
        case GQL_TOK_SOF: d = "<SOF>"; break;
        case GQL_TOK_EOF: d = "<EOF>"; break;
        case GQL_TOK_NAME:
            d = gql_sprintf (a, "Name \"%.*s\"", (int) t->len, t->value);
            break;
        case GQL_TOK_INT:
            d = gql_sprintf (a, "Int \"%.*s\"", (int) t->len, t->value);
            break;
        case GQL_TOK_FLOAT:
            d = gql_sprintf (a, "Float \"%.*s\"", (int) t->len, t->value);
            break;
        case GQL_TOK_STRING:
        case GQL_TOK_BLOCK_STRING: {
            //  Quote the value as JSON would, truncated: it may be long or
            //  hold control characters.
            jbuf_t b;
            jbuf_init (&b, 0);
            size_t len = t->len > 40 ? 40 : t->len;
            while (len > 0 && len < t->len && ((unsigned char) t->value[len] & 0xC0) == 0x80)
                len--;
            jbuf_json_string (&b, t->value, len);
            if (!jbuf_failed (&b))
                d = gql_sprintf (a, "%s %.*s%s",
                                 t->kind == GQL_TOK_STRING ? "String" : "BlockString", (int) b.len,
                                 b.data, len < t->len ? "..." : "");
            jbuf_free (&b);
            break;
        }
        default:
            d = punct[t->kind];
    }
    return d ? d : "?";
}
