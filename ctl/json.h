/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A tiny JSON tree and writer for berthctl's --json output. Values own their
 * children; json_set()/json_append() take ownership of the value passed. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef enum JsonFormat {
        JSON_OFF,
        JSON_SHORT,  /* one line */
        JSON_PRETTY, /* indented */
} JsonFormat;

typedef struct JsonValue JsonValue;

JsonValue *json_object(void);
JsonValue *json_array(void);
JsonValue *json_string(const char *s);     /* NULL gives null */
JsonValue *json_int(int64_t i);
JsonValue *json_uint(uint64_t u);
JsonValue *json_double(double d);
JsonValue *json_bool(bool b);
JsonValue *json_null(void);

/* A limit: UINT64_MAX (unset/infinity on the bus) becomes null. */
JsonValue *json_limit(uint64_t u);

void json_set(JsonValue *object, const char *key, JsonValue *v);
void json_append(JsonValue *array, JsonValue *v);
size_t json_length(const JsonValue *v);

void json_free(JsonValue *v);
static inline void json_freep(JsonValue **v) {
        if (*v)
                json_free(*v);
}
#define _cleanup_json_ __attribute__((cleanup(json_freep)))

/* Accessors. prop_get() looks a key up in an object (NULL if absent). */
const JsonValue *prop_get(const JsonValue *obj, const char *name);
const char *json_get_string(const JsonValue *v);
bool json_get_number(const JsonValue *v, uint64_t *ret_u, int64_t *ret_i);
bool json_get_boolean(const JsonValue *v, bool *ret);
const JsonValue *json_index(const JsonValue *v, size_t i);
const char *json_object_key(const JsonValue *v, size_t i);
JsonValue *json_copy(const JsonValue *v);
/* Text rendering for show: strings as is, booleans yes/no, arrays
 * space-separated with structs in parentheses. */
char *json_to_text(const JsonValue *v);

/* Print with a trailing newline. */
void json_print(FILE *f, const JsonValue *v, JsonFormat format);

/* Parse "pretty", "short" or "off". Returns 0 or -EINVAL. */
int json_format_from_string(const char *s, JsonFormat *ret);
