/* File names and other outside text in messages: quoted when they need it and with
 * control characters escaped, so that every message stays one line whatever the name. */
#ifndef FCNN_QUOTE_H
#define FCNN_QUOTE_H

/* The most characters a quoted name takes; longer names keep their beginning and end with
 * "..." between, so the reason that follows a name in a message is never cut off. */
#define FCNN_QUOTE_MAX 512

/* `text` as it should appear in a message: unchanged when it holds only characters that
 * are safe to print (letters, digits and /._-+,:@%=~), else in single quotes with control
 * characters, backslashes and quotes escaped (\n, \t, \\, \', \xHH), as GNU tools print
 * names. NULL prints as (null). The result lives in one of a few per-thread buffers, so
 * up to four quoted names can appear in one fcnn_error() call. */
const char *fcnn_quote(const char *text);

/* The same escaping and length limit without the quotes, for text a message already puts
 * in quotes of its own ("tensor '%s'"). Shares fcnn_quote's buffers. */
const char *fcnn_escape(const char *text);

#endif
