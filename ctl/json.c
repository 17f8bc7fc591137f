/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "json.h"

#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

typedef enum JsonType {
        JT_NULL,
        JT_BOOL,
        JT_INT,
        JT_UINT,
        JT_DOUBLE,
        JT_STRING,
        JT_ARRAY,
        JT_OBJECT,
} JsonType;

struct JsonValue {
        JsonType type;
        union {
                bool b;
                int64_t i;
                uint64_t u;
                double d;
                char *s;
                GPtrArray *items; /* JsonValue* (array) */
        };
        GPtrArray *keys;          /* char*, parallel to items (object) */
};

static JsonValue *json_new(JsonType t) {
        JsonValue *v = g_new0(JsonValue, 1);
        v->type = t;
        return v;
}

JsonValue *json_object(void) {
        JsonValue *v = json_new(JT_OBJECT);
        v->items = g_ptr_array_new_with_free_func((GDestroyNotify) json_free);
        v->keys = g_ptr_array_new_with_free_func(g_free);
        return v;
}

JsonValue *json_array(void) {
        JsonValue *v = json_new(JT_ARRAY);
        v->items = g_ptr_array_new_with_free_func((GDestroyNotify) json_free);
        return v;
}

JsonValue *json_string(const char *s) {
        if (!s)
                return json_null();
        JsonValue *v = json_new(JT_STRING);
        if (g_utf8_validate(s, -1, NULL))
                v->s = g_strdup(s);
        else
                v->s = g_utf8_make_valid(s, -1);
        return v;
}

JsonValue *json_int(int64_t i) {
        JsonValue *v = json_new(JT_INT);
        v->i = i;
        return v;
}

JsonValue *json_uint(uint64_t u) {
        JsonValue *v = json_new(JT_UINT);
        v->u = u;
        return v;
}

JsonValue *json_double(double d) {
        if (!isfinite(d))
                return json_null();
        JsonValue *v = json_new(JT_DOUBLE);
        v->d = d;
        return v;
}

JsonValue *json_bool(bool b) {
        JsonValue *v = json_new(JT_BOOL);
        v->b = b;
        return v;
}

JsonValue *json_null(void) {
        return json_new(JT_NULL);
}

JsonValue *json_limit(uint64_t u) {
        return u == UINT64_MAX ? json_null() : json_uint(u);
}

void json_set(JsonValue *object, const char *key, JsonValue *v) {
        g_assert(object->type == JT_OBJECT);
        for (guint i = 0; i < object->keys->len; i++)
                if (strcmp(object->keys->pdata[i], key) == 0) {
                        json_free(object->items->pdata[i]);
                        object->items->pdata[i] = v;
                        return;
                }
        g_ptr_array_add(object->keys, g_strdup(key));
        g_ptr_array_add(object->items, v);
}

void json_append(JsonValue *array, JsonValue *v) {
        g_assert(array->type == JT_ARRAY);
        g_ptr_array_add(array->items, v);
}

size_t json_length(const JsonValue *v) {
        if (!v)
                return 0;
        return (v->type == JT_ARRAY || v->type == JT_OBJECT) ? v->items->len : 0;
}

void json_free(JsonValue *v) {
        if (!v)
                return;
        switch (v->type) {
        case JT_STRING:
                g_free(v->s);
                break;
        case JT_ARRAY:
        case JT_OBJECT:
                g_ptr_array_unref(v->items);
                if (v->keys)
                        g_ptr_array_unref(v->keys);
                break;
        default:
                break;
        }
        g_free(v);
}

static void print_string(FILE *f, const char *s) {
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                switch (*p) {
                case '"':  fputs("\\\"", f); break;
                case '\\': fputs("\\\\", f); break;
                case '\n': fputs("\\n", f); break;
                case '\r': fputs("\\r", f); break;
                case '\t': fputs("\\t", f); break;
                case '\b': fputs("\\b", f); break;
                case '\f': fputs("\\f", f); break;
                default:
                        if (*p < 0x20 || *p == 0x7f)
                                fprintf(f, "\\u%04x", *p);
                        else
                                fputc(*p, f);
                }
        }
        fputc('"', f);
}

static void indent(FILE *f, int level) {
        for (int i = 0; i < level; i++)
                fputs("  ", f);
}

static void print_value(FILE *f, const JsonValue *v, JsonFormat format, int level) {
        bool pretty = format == JSON_PRETTY;

        switch (v->type) {
        case JT_NULL:
                fputs("null", f);
                break;
        case JT_BOOL:
                fputs(v->b ? "true" : "false", f);
                break;
        case JT_INT:
                fprintf(f, "%" PRIi64, v->i);
                break;
        case JT_UINT:
                fprintf(f, "%" PRIu64, v->u);
                break;
        case JT_DOUBLE:
                fprintf(f, "%.17g", v->d);
                break;
        case JT_STRING:
                print_string(f, v->s);
                break;
        case JT_ARRAY:
        case JT_OBJECT: {
                bool obj = v->type == JT_OBJECT;
                fputc(obj ? '{' : '[', f);
                if (v->items->len == 0) {
                        fputc(obj ? '}' : ']', f);
                        break;
                }
                for (guint i = 0; i < v->items->len; i++) {
                        if (i > 0)
                                fputc(',', f);
                        if (pretty) {
                                fputc('\n', f);
                                indent(f, level + 1);
                        }
                        if (obj) {
                                print_string(f, v->keys->pdata[i]);
                                fputs(pretty ? ": " : ":", f);
                        }
                        print_value(f, v->items->pdata[i], format, level + 1);
                }
                if (pretty) {
                        fputc('\n', f);
                        indent(f, level);
                }
                fputc(obj ? '}' : ']', f);
                break;
        }
        }
}

void json_print(FILE *f, const JsonValue *v, JsonFormat format) {
        print_value(f, v, format, 0);
        fputc('\n', f);
}

int json_format_from_string(const char *s, JsonFormat *ret) {
        if (strcmp(s, "pretty") == 0)
                *ret = JSON_PRETTY;
        else if (strcmp(s, "short") == 0)
                *ret = JSON_SHORT;
        else if (strcmp(s, "off") == 0)
                *ret = JSON_OFF;
        else
                return -EINVAL;
        return 0;
}

const JsonValue *prop_get(const JsonValue *obj, const char *name) {
        if (!obj || obj->type != JT_OBJECT)
                return NULL;
        for (guint i = 0; i < obj->keys->len; i++)
                if (strcmp(obj->keys->pdata[i], name) == 0)
                        return obj->items->pdata[i];
        return NULL;
}

const char *json_get_string(const JsonValue *v) {
        return v && v->type == JT_STRING ? v->s : NULL;
}

bool json_get_number(const JsonValue *v, uint64_t *ret_u, int64_t *ret_i) {
        if (!v)
                return false;
        if (v->type == JT_UINT) {
                if (ret_u) *ret_u = v->u;
                if (ret_i) *ret_i = (int64_t) v->u;
                return true;
        }
        if (v->type == JT_INT) {
                if (ret_u) *ret_u = (uint64_t) v->i;
                if (ret_i) *ret_i = v->i;
                return true;
        }
        return false;
}

bool json_get_boolean(const JsonValue *v, bool *ret) {
        if (!v || v->type != JT_BOOL)
                return false;
        *ret = v->b;
        return true;
}

const JsonValue *json_index(const JsonValue *v, size_t i) {
        if (!v || (v->type != JT_ARRAY && v->type != JT_OBJECT) || i >= v->items->len)
                return NULL;
        return v->items->pdata[i];
}

char *json_to_text(const JsonValue *v) {
        if (!v)
                return g_strdup("");
        switch (v->type) {
        case JT_NULL: return g_strdup("");
        case JT_BOOL: return g_strdup(v->b ? "yes" : "no");
        case JT_INT: return g_strdup_printf("%" PRIi64, v->i);
        case JT_UINT: return g_strdup_printf("%" PRIu64, v->u);
        case JT_DOUBLE: return g_strdup_printf("%g", v->d);
        case JT_STRING: return g_strdup(v->s);
        case JT_ARRAY: {
                GString *s = g_string_new(NULL);
                for (guint i = 0; i < v->items->len; i++) {
                        const JsonValue *item = v->items->pdata[i];
                        g_autofree char *t = json_to_text(item);
                        if (i > 0)
                                g_string_append_c(s, ' ');
                        if (item->type == JT_ARRAY)
                                g_string_append_printf(s, "(%s)", t);
                        else
                                g_string_append(s, t);
                }
                return g_string_free(s, FALSE);
        }
        case JT_OBJECT: {
                GString *s = g_string_new(NULL);
                for (guint i = 0; i < v->items->len; i++) {
                        g_autofree char *t = json_to_text(v->items->pdata[i]);
                        g_string_append_printf(s, "%s%s=%s", i > 0 ? " " : "", (char *) v->keys->pdata[i], t);
                }
                return g_string_free(s, FALSE);
        }
        }
        return g_strdup("");
}


const char *json_object_key(const JsonValue *v, size_t i) {
        if (!v || v->type != JT_OBJECT || i >= v->keys->len)
                return NULL;
        return v->keys->pdata[i];
}

JsonValue *json_copy(const JsonValue *v) {
        if (!v)
                return json_null();
        switch (v->type) {
        case JT_NULL: return json_null();
        case JT_BOOL: return json_bool(v->b);
        case JT_INT: return json_int(v->i);
        case JT_UINT: return json_uint(v->u);
        case JT_DOUBLE: return json_double(v->d);
        case JT_STRING: return json_string(v->s);
        case JT_ARRAY: {
                JsonValue *a = json_array();
                for (guint i = 0; i < v->items->len; i++)
                        json_append(a, json_copy(v->items->pdata[i]));
                return a;
        }
        case JT_OBJECT: {
                JsonValue *o = json_object();
                for (guint i = 0; i < v->items->len; i++)
                        json_set(o, v->keys->pdata[i], json_copy(v->items->pdata[i]));
                return o;
        }
        }
        return json_null();
}
