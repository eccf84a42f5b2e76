/* Tests of the safetensors reader and writer: a round trip, the exact bytes written,
 * atomic replacement, and one crafted malformed file for every rejection the reader
 * promises. Exit 77 (skip) when fcnn was built without jansson.
 *
 * Set FCNN_ST_KEEP=FILE to also write the round-trip file there, e.g. to open it in
 * Python's safetensors package. */
#include <config.h>

#include <stdio.h>

#ifndef HAVE_JANSSON
int main(void)
{
    puts("SKIP: built without jansson, no safetensors support");
    return 77;
}
#else

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "io/safetensors.h"
#include "core/status.h"

static int failures;
static char tmpdir[256];

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);        \
            failures++;                                                                    \
        }                                                                                  \
    } while (0)

static char *tmp_path(const char *name)
{
    static char buf[4][512];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", tmpdir, name);
    return p;
}

/* Entries of the temporary directory other than "." and "..", and whether any of them
 * is a leftover temporary file of the writer. */
static int count_entries(const char *dir, bool *has_temp)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (has_temp)
        *has_temp = false;
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        n++;
        if (has_temp && strstr(e->d_name, ".tmp."))
            *has_temp = true;
    }
    closedir(d);
    return n;
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            remove_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* ---- round trip -------------------------------------------------------------------- */

/* Values that would expose a byte-order or precision slip: signed zero, a subnormal,
 * infinities, a NaN with payload, and ordinary numbers. */
static void fill(float *x, size_t n, uint32_t seed)
{
    const float special[] = {-0.0f, 1.0e-40f, INFINITY, -INFINITY, 1.0f, -2.5f};
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = i < 6 ? special[i] : (float)(int32_t)seed / 2147483648.0f;
    }
    if (n > 6) {
        uint32_t nan_bits = 0x7fc01234u;
        memcpy(&x[6], &nan_bits, sizeof nan_bits);
    }
}

static void test_round_trip(void)
{
    static float kernel[3 * 3 * 1 * 32], bias[32], scalar[1], big[3136 * 10];
    fill(kernel, 288, 1);
    fill(bias, 32, 2);
    fill(big, 31360, 3);
    scalar[0] = 42.0f;
    const struct fcnn_st_tensor tensors[] = {
        {.name = "conv2d/kernel", .ndim = 4, .shape = {3, 3, 1, 32}, .data = kernel, .count = 288},
        {.name = "conv2d/bias", .ndim = 1, .shape = {32}, .data = bias, .count = 32},
        {.name = "empty", .ndim = 2, .shape = {0, 5}, .data = NULL, .count = 0},
        {.name = "step", .ndim = 0, .data = scalar, .count = 1},
        {.name = "dense/kernel", .ndim = 2, .shape = {3136, 10}, .data = big, .count = 31360},
    };
    const int count = (int)(sizeof tensors / sizeof tensors[0]);
    const struct fcnn_st_meta meta[] = {
        {"format", "fcnn"},
        {"history", "{\"loss\": [0.5, 0.25], \"note\": \"quotes \\\" and \\u00e9\"}"},
        {"empty", ""},
    };
    const char *path = tmp_path("round.safetensors");
    CHECK(fcnn_st_write(path, tensors, count, meta, 3) == FCNN_OK);
    const char *keep = getenv("FCNN_ST_KEEP");
    if (keep && *keep)
        CHECK(fcnn_st_write(keep, tensors, count, meta, 3) == FCNN_OK);

    struct fcnn_st_file file;
    int rc = fcnn_st_read(path, &file);
    CHECK(rc == FCNN_OK);
    if (rc != FCNN_OK) {
        fprintf(stderr, "read: %s\n", fcnn_last_error());
        return;
    }
    CHECK(file.count == count);
    for (int i = 0; i < count && i < file.count; i++) {
        const struct fcnn_st_tensor *a = &tensors[i], *b = &file.tensors[i];
        CHECK(!strcmp(a->name, b->name));
        CHECK(a->ndim == b->ndim);
        CHECK(!memcmp(a->shape, b->shape, sizeof(int64_t) * (size_t)a->ndim));
        CHECK(a->count == b->count);
        CHECK(a->count == 0 || !memcmp(a->data, b->data, a->count * sizeof(float)));
    }
    CHECK(file.meta_count == 3);
    for (int i = 0; i < 3 && i < file.meta_count; i++) {
        CHECK(!strcmp(file.meta[i].key, meta[i].key));
        CHECK(!strcmp(file.meta[i].value, meta[i].value));
    }
    const struct fcnn_st_tensor *t = fcnn_st_find(&file, "dense/kernel");
    CHECK(t && t->shape[0] == 3136 && t->shape[1] == 10 && t->data[31359] == big[31359]);
    CHECK(fcnn_st_find(&file, "missing") == NULL);
    CHECK(fcnn_st_meta_get(&file, "format") && !strcmp(fcnn_st_meta_get(&file, "format"), "fcnn"));
    CHECK(fcnn_st_meta_get(&file, "nope") == NULL);
    fcnn_st_free(&file);
    CHECK(file.count == 0 && file.tensors == NULL && file.storage == NULL);

    /* No tensors and no metadata is a valid (if useless) file: "{}" padded. */
    path = tmp_path("nothing.safetensors");
    CHECK(fcnn_st_write(path, NULL, 0, NULL, 0) == FCNN_OK);
    CHECK(fcnn_st_read(path, &file) == FCNN_OK && file.count == 0 && file.meta_count == 0);
    fcnn_st_free(&file);
}

/* The bytes on disk: LE header length, a padded JSON header that parses, LE floats. */
static void test_bytes(void)
{
    const float a[2] = {1.0f, -2.0f}, b[3] = {0.5f, 0.25f, 3.0f};
    const struct fcnn_st_tensor tensors[] = {
        {.name = "a", .ndim = 1, .shape = {2}, .data = a, .count = 2},
        {.name = "b", .ndim = 2, .shape = {1, 3}, .data = b, .count = 3},
    };
    const struct fcnn_st_meta meta[] = {{"format", "fcnn"}};
    const char *path = tmp_path("bytes.safetensors");
    CHECK(fcnn_st_write(path, tensors, 2, meta, 1) == FCNN_OK);

    size_t len = 0;
    unsigned char *buf = slurp(path, &len);
    CHECK(buf && len > 8);
    if (!buf || len <= 8)
        return;
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | buf[i];
    CHECK(n % 8 == 0);
    CHECK(8 + n + 5 * 4 == len);
    CHECK(buf[8] == '{');
    CHECK(buf[8 + n - 1] == '}' || buf[8 + n - 1] == ' ');

    json_error_t err;
    json_t *root = n < len ? json_loadb((const char *)buf + 8, (size_t)n, 0, &err) : NULL;
    CHECK(root != NULL);
    json_t *ta = json_object_get(root, "a"), *tb = json_object_get(root, "b");
    CHECK(!strcmp(json_string_value(json_object_get(ta, "dtype")), "F32"));
    CHECK(json_integer_value(json_array_get(json_object_get(ta, "data_offsets"), 0)) == 0);
    CHECK(json_integer_value(json_array_get(json_object_get(ta, "data_offsets"), 1)) == 8);
    CHECK(json_integer_value(json_array_get(json_object_get(tb, "data_offsets"), 0)) == 8);
    CHECK(json_integer_value(json_array_get(json_object_get(tb, "data_offsets"), 1)) == 20);
    CHECK(json_array_size(json_object_get(tb, "shape")) == 2);
    CHECK(json_integer_value(json_array_get(json_object_get(tb, "shape"), 1)) == 3);
    CHECK(!strcmp(json_string_value(json_object_get(json_object_get(root, "__metadata__"),
                                                    "format")), "fcnn"));
    json_decref(root);

    /* 1.0f is 0x3f800000 and -2.0f is 0xc0000000, least significant byte first. */
    const unsigned char one_le[4] = {0x00, 0x00, 0x80, 0x3f}, minus_two_le[4] = {0, 0, 0, 0xc0};
    CHECK(!memcmp(buf + 8 + n, one_le, 4));
    CHECK(!memcmp(buf + 8 + n + 4, minus_two_le, 4));
    free(buf);
}

/* ---- atomic replacement ------------------------------------------------------------ */

static bool reads_back_as(const char *path, float expected)
{
    struct fcnn_st_file file;
    bool ok = fcnn_st_read(path, &file) == FCNN_OK && file.count == 1 &&
              file.tensors[0].count >= 1 && file.tensors[0].data[0] == expected;
    fcnn_st_free(&file);
    return ok;
}

static void test_atomic(void)
{
    char dir[300];
    snprintf(dir, sizeof dir, "%s/atomic", tmpdir);
    CHECK(mkdir(dir, 0755) == 0);
    char path[400];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);

    float v = 1.0f;
    struct fcnn_st_tensor t = {.name = "w", .ndim = 1, .shape = {1}, .data = &v, .count = 1};
    CHECK(fcnn_st_write(path, &t, 1, NULL, 0) == FCNN_OK);
    v = 2.0f;
    CHECK(fcnn_st_write(path, &t, 1, NULL, 0) == FCNN_OK); /* over an existing file */
    bool has_temp = true;
    CHECK(count_entries(dir, &has_temp) == 1 && !has_temp);
    CHECK(reads_back_as(path, 2.0f));
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);

    /* Invalid arguments fail before anything is written. */
    struct fcnn_st_tensor bad = t;
    bad.count = 2;
    CHECK(fcnn_st_write(path, &bad, 1, NULL, 0) == FCNN_ERR_INVALID);
    CHECK(strstr(fcnn_last_error(), "does not match its shape") != NULL);
    struct fcnn_st_tensor twice[2] = {t, t};
    CHECK(fcnn_st_write(path, twice, 2, NULL, 0) == FCNN_ERR_INVALID);
    CHECK(strstr(fcnn_last_error(), "duplicate tensor name") != NULL);
    bad = t;
    bad.name = "__metadata__";
    CHECK(fcnn_st_write(path, &bad, 1, NULL, 0) == FCNN_ERR_INVALID);
    CHECK(strstr(fcnn_last_error(), "reserved") != NULL);
    bad.name = "caf\xe9"; /* Latin-1, not UTF-8: JSON cannot carry it */
    CHECK(fcnn_st_write(path, &bad, 1, NULL, 0) == FCNN_ERR_INVALID);
    CHECK(strstr(fcnn_last_error(), "not UTF-8") != NULL);
    const struct fcnn_st_meta bad_meta = {"note", "\xff"};
    CHECK(fcnn_st_write(path, &t, 1, &bad_meta, 1) == FCNN_ERR_INVALID);
    CHECK(strstr(fcnn_last_error(), "not UTF-8") != NULL);
    CHECK(reads_back_as(path, 2.0f));

    /* A directory that does not exist: no temporary file can be made, nothing appears. */
    char nowhere[500];
    snprintf(nowhere, sizeof nowhere, "%s/no-such-dir/model.safetensors", dir);
    CHECK(fcnn_st_write(nowhere, &t, 1, NULL, 0) == FCNN_ERR_IO);
    CHECK(strstr(fcnn_last_error(), "temporary file") != NULL);
    CHECK(strstr(fcnn_last_error(), nowhere) != NULL);
    CHECK(count_entries(dir, &has_temp) == 1 && !has_temp);

    /* A target that is a directory is refused before anything is written: no temporary
     * file is left and the directory is left alone. */
    char target_dir[500];
    snprintf(target_dir, sizeof target_dir, "%s/is-a-dir", dir);
    CHECK(mkdir(target_dir, 0755) == 0);
    CHECK(fcnn_st_write(target_dir, &t, 1, NULL, 0) == FCNN_ERR_INVALID);
    CHECK(strstr(fcnn_last_error(), "is a directory") != NULL);
    CHECK(count_entries(dir, &has_temp) == 2 && !has_temp);
    CHECK(stat(target_dir, &st) == 0 && S_ISDIR(st.st_mode));
    rmdir(target_dir);

    /* A write that fails halfway (the file size limit, which binds root too): the old
     * checkpoint survives untouched and the partial temporary file is gone. */
    struct rlimit old_limit, small;
    if (getrlimit(RLIMIT_FSIZE, &old_limit) == 0) {
        static float big[1 << 18]; /* 1 MiB of data, far past the limit below */
        struct fcnn_st_tensor huge = {.name = "w", .ndim = 1, .shape = {1 << 18},
                                      .data = big, .count = 1 << 18};
        small = old_limit;
        small.rlim_cur = 64 * 1024;
        void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
        CHECK(setrlimit(RLIMIT_FSIZE, &small) == 0);
        int rc = fcnn_st_write(path, &huge, 1, NULL, 0);
        CHECK(setrlimit(RLIMIT_FSIZE, &old_limit) == 0);
        signal(SIGXFSZ, old_handler);
        CHECK(rc == FCNN_ERR_IO);
        CHECK(strstr(fcnn_last_error(), "cannot write") != NULL);
        CHECK(count_entries(dir, &has_temp) == 1 && !has_temp);
        CHECK(reads_back_as(path, 2.0f));
    }
}

/* ---- malformed files --------------------------------------------------------------- */

/* Writes an 8-byte LE length (`declared`), `header`, and `data_len` bytes of data. */
static const char *craft(const char *name, uint64_t declared, const char *header,
                         size_t data_len)
{
    const char *path = tmp_path(name);
    FILE *f = fopen(path, "wb");
    unsigned char len_bytes[8];
    for (int i = 0; i < 8; i++)
        len_bytes[i] = (unsigned char)(declared >> (8 * i));
    fwrite(len_bytes, 1, 8, f);
    fwrite(header, 1, strlen(header), f);
    for (size_t i = 0; i < data_len; i++)
        fputc(0x3f, f);
    fclose(f);
    return path;
}

/* A well-formed length for `header`. */
static const char *craft_file(const char *name, const char *header, size_t data_len)
{
    return craft(name, strlen(header), header, data_len);
}

/* Reading `path` must fail with `status` and one line naming the file and the problem. */
static void expect_reject(const char *path, int status, const char *problem, int line)
{
    struct fcnn_st_file file;
    int rc = fcnn_st_read(path, &file);
    const char *msg = fcnn_last_error();
    bool ok = rc == status && strstr(msg, path) && strstr(msg, problem) && !strchr(msg, '\n') &&
              file.count == 0 && file.tensors == NULL && file.meta == NULL;
    printf("rejected: %s\n", msg); /* the log shows every message a user would see */
    if (!ok) {
        fprintf(stderr, "%s:%d: expected status %d and \"%s\", got %d: %s\n", __FILE__, line,
                status, problem, rc, msg);
        failures++;
    }
    fcnn_st_free(&file);
}

#define REJECT(path, problem) expect_reject(path, FCNN_ERR_INVALID, problem, __LINE__)

#define W8 "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}"

static void test_malformed(void)
{
    /* The base case is accepted, so each rejection below is due to its one change. The
     * header is padded, lists tensors out of data order and puts metadata last. */
    const char *ok = craft_file("ok.st", "{\"v\":{\"dtype\":\"F32\",\"shape\":[1],"
                                "\"data_offsets\":[8,12]}," W8 ",\"__metadata__\":{\"k\":\"v\"}}   ",
                                12);
    struct fcnn_st_file file;
    const uint32_t bits = 0x3f3f3f3fu; /* what every data byte 0x3f reads as */
    float expected;
    memcpy(&expected, &bits, sizeof expected);
    int rc = fcnn_st_read(ok, &file);
    CHECK(rc == FCNN_OK);
    if (rc == FCNN_OK) {
        CHECK(file.count == 2 && file.meta_count == 1);
        CHECK(!strcmp(file.tensors[0].name, "w") && !strcmp(file.tensors[1].name, "v"));
        CHECK(file.tensors[0].data[1] == expected && file.tensors[1].data[0] == expected);
        CHECK(file.tensors[1].data == file.tensors[0].data + 2);
    }
    fcnn_st_free(&file);

    expect_reject(tmp_path("does-not-exist.st"), FCNN_ERR_IO, "No such file", __LINE__);

    const char *tiny = tmp_path("tiny.st");
    FILE *f = fopen(tiny, "wb");
    fwrite("\x10\0\0\0\0", 1, 5, f);
    fclose(f);
    REJECT(tiny, "shorter than the 8-byte header length");
    REJECT(craft("past-end.st", 1000, "{}", 0), "runs past the end of the file");
    REJECT(craft("huge-len.st", (uint64_t)1 << 40, "{}", 0), "above the limit");
    REJECT(craft("max-len.st", UINT64_MAX, "{}", 0), "above the limit");

    REJECT(craft_file("bad-json.st", "{\"w\": {\"dtype\": ", 0), "not valid JSON");
    REJECT(craft_file("bad-json2.st", "{\"w\": 1,\n  oops}", 0), "line 2");
    REJECT(craft_file("trailing-json.st", "{} {}", 0), "not valid JSON");
    REJECT(craft_file("not-object.st", "[1, 2]", 0), "header is not a JSON object");
    REJECT(craft_file("dup.st", "{" W8 "," W8 "}", 8), "duplicate");

    REJECT(craft_file("entry-num.st", "{\"w\": 5}", 0), "tensor 'w': entry is not a JSON object");
    /* A name longer than half of what a message quotes, that still fits whole once
     * escaped: it is named in full (the quoting once wrote past its buffer here). */
    char as[301], bs[101], header[500], problem[500];
    memset(as, 'a', 300);
    as[300] = '\0';
    memset(bs, 'b', 100);
    bs[100] = '\0';
    snprintf(header, sizeof header, "{\"%s\\u007f%s\": 5}", as, bs); /* a DEL in the name */
    snprintf(problem, sizeof problem, "tensor '%s\\x7f%s': entry is not a JSON object", as, bs);
    REJECT(craft_file("long-name.st", header, 0), problem);
    REJECT(craft_file("no-dtype.st", "{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8),
           "\"dtype\" is missing");
    REJECT(craft_file("dtype-num.st", "{\"w\":{\"dtype\":7,\"shape\":[2],\"data_offsets\":[0,8]}}",
                      8), "\"dtype\" is missing or not a string");
    REJECT(craft_file("f16.st", "{\"w\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,8]}}",
                      8), "dtype F16 is not supported");
    REJECT(craft_file("extra.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],"
                      "\"x\":1}}", 8), "unexpected field \"x\"");

    REJECT(craft_file("no-shape.st", "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8),
           "\"shape\" is missing");
    REJECT(craft_file("shape-str.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":\"2\","
                      "\"data_offsets\":[0,8]}}", 8), "\"shape\" is missing or not an array");
    REJECT(craft_file("shape-real.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2.0],"
                      "\"data_offsets\":[0,8]}}", 8), "dimension 0 is not an integer");
    REJECT(craft_file("shape-neg.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,-1],"
                      "\"data_offsets\":[0,8]}}", 8), "dimension 1 is negative");
    REJECT(craft_file("shape-9d.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,2],"
                      "\"data_offsets\":[0,8]}}", 8), "more than 8");
    REJECT(craft_file("shape-overflow.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,"
                      "4294967296],\"data_offsets\":[0,8]}}", 8), "element count overflows");
    REJECT(craft_file("shape-overflow4.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],"
                      "\"data_offsets\":[0,8]}}", 8), "element count overflows");
    REJECT(craft_file("shape-absurd.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],"
                      "\"data_offsets\":[0,8]}}", 8), "not valid JSON");

    REJECT(craft_file("no-offsets.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8),
           "\"data_offsets\" is missing");
    REJECT(craft_file("offsets-1.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],"
                      "\"data_offsets\":[8]}}", 8), "not [begin, end]");
    REJECT(craft_file("offsets-str.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],"
                      "\"data_offsets\":[\"0\",\"8\"]}}", 8), "not [begin, end]");
    REJECT(craft_file("offsets-neg.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],"
                      "\"data_offsets\":[-8,0]}}", 8), "non-negative integers");
    REJECT(craft_file("begin-gt-end.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],"
                      "\"data_offsets\":[8,4]}}", 8), "begin 8 is after end 4");
    REJECT(craft_file("outside.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[100],"
                      "\"data_offsets\":[0,400]}}", 8), "outside the data section of 8 bytes");
    REJECT(craft_file("size.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],"
                      "\"data_offsets\":[0,8]}}", 8), "does not match its shape");
    REJECT(craft_file("overlap.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12),
           "tensors 'a' and 'b' overlap");
    REJECT(craft_file("gap.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                      "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12),
           "gap of 4 unused bytes before tensor 'b'");
    REJECT(craft_file("gap-first.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
                      "\"data_offsets\":[4,8]}}", 8), "gap of 4 unused bytes before tensor 'a'");
    REJECT(craft_file("trailing.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
                      "\"data_offsets\":[0,4]}}", 8), "4 bytes of unused data after the last");
    REJECT(craft_file("data-no-tensors.st", "{}", 4), "4 bytes of unused data but no tensors");

    REJECT(craft_file("meta-num.st", "{\"__metadata__\":5}", 0), "__metadata__ is not a JSON object");
    REJECT(craft_file("meta-nested.st", "{\"__metadata__\":{\"epoch\":3}}", 0),
           "__metadata__ value of \"epoch\" is not a string");
    REJECT(craft_file("meta-dup.st", "{\"__metadata__\":{},\"__metadata__\":{}}", 0), "duplicate");
}

int main(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/fcnn-st-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 99;
    }
    test_round_trip();
    test_bytes();
    test_atomic();
    test_malformed();
    remove_tree(tmpdir);
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    puts("all safetensors checks passed");
    return 0;
}
#endif
