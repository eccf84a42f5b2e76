/* Quoting of names for messages (see quote.h). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/quote.h"

#define RING 4

static bool is_plain(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("/._-+,:@%=~", c) != NULL;
}

/* Writes the escaped form of byte c at out (room for 4), returns its length. */
static size_t escape(unsigned char c, char *out)
{
    switch (c) {
    case '\n': memcpy(out, "\\n", 2); return 2;
    case '\t': memcpy(out, "\\t", 2); return 2;
    case '\r': memcpy(out, "\\r", 2); return 2;
    case '\\': memcpy(out, "\\\\", 2); return 2;
    case '\'': memcpy(out, "\\'", 2); return 2;
    }
    if (c < 0x20 || c == 0x7f) {
        snprintf(out, 5, "\\x%02x", c);
        return 4;
    }
    out[0] = (char)c;
    return 1;
}

static const char *render(const char *text, bool quote);

const char *fcnn_quote(const char *text)
{
    return render(text, true);
}

const char *fcnn_escape(const char *text)
{
    return render(text, false);
}

static const char *render(const char *text, bool quote)
{
    /* Room for FCNN_QUOTE_MAX characters plus the terminator. */
    static _Thread_local char ring[RING][FCNN_QUOTE_MAX + 1];
    static _Thread_local unsigned next;
    char *out = ring[next++ % RING];
    if (!text)
        return "(null)";

    size_t n = strlen(text);
    bool plain = n > 0 || !quote;
    for (size_t i = 0; i < n && plain; i++)
        plain = is_plain((unsigned char)text[i]);
    if (plain && n <= FCNN_QUOTE_MAX) {
        memcpy(out, text, n + 1);
        return out;
    }

    /* Escaped and quoted; when too long, the first and last parts with "..." between.
     * Each half gets a budget, so a name of control characters cannot overflow it. */
    enum { HALF = (FCNN_QUOTE_MAX - 2 - 3) / 2 };
    /* The head takes the tail too when the whole text fits after all: room for both. */
    char head[2 * HALF + 4], tail[HALF + 4];
    size_t head_len = 0, i = 0;
    for (; i < n; i++) {
        char e[5];
        size_t k = escape((unsigned char)text[i], e);
        if (head_len + k > HALF)
            break;
        memcpy(head + head_len, e, k);
        head_len += k;
    }
    size_t tail_len = 0;
    if (i < n) {
        /* Fill the tail from the end backwards, not reaching into the head. */
        size_t j = n;
        char rev[HALF + 4];
        while (j > i) {
            char e[5];
            size_t k = escape((unsigned char)text[j - 1], e);
            if (tail_len + k > HALF)
                break;
            for (size_t m = 0; m < k; m++)
                rev[tail_len + m] = e[k - 1 - m];
            tail_len += k;
            j--;
        }
        for (size_t m = 0; m < tail_len; m++)
            tail[m] = rev[tail_len - 1 - m];
        if (j == i) { /* everything fitted after all */
            memcpy(head + head_len, tail, tail_len);
            head_len += tail_len;
            tail_len = 0;
            i = n;
        }
    }
    snprintf(out, FCNN_QUOTE_MAX + 1, "%s%.*s%s%.*s%s", quote ? "'" : "", (int)head_len, head,
             i < n ? "..." : "", (int)tail_len, tail, quote ? "'" : "");
    return out;
}
