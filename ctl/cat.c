/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berthctl cat: the effective configuration after drop-ins, with sources. */
#include <errno.h>
#include <string.h>

#include "berthctl.h"
#include "config.h"

static const char *const section_order[] = { "Container", "Rootfs", "Files", "Security", "Limits", "Network" };

static int section_rank(const char *s) {
        for (size_t i = 0; i < G_N_ELEMENTS(section_order); i++)
                if (strcmp(section_order[i], s) == 0)
                        return (int) i;
        return (int) G_N_ELEMENTS(section_order);
}

static gint compare_sources(gconstpointer a, gconstpointer b) {
        const BerthConfigSource *x = *(const BerthConfigSource *const *) a;
        const BerthConfigSource *y = *(const BerthConfigSource *const *) b;
        int rx = section_rank(x->section), ry = section_rank(y->section);
        if (rx != ry)
                return rx - ry;
        return strcmp(x->section, y->section);
}

int verb_cat(int argc, char **argv) {
        g_autoptr(BerthConfig) cfg = NULL;
        g_autoptr(GError) error = NULL;
        const char *name = argv[1];
        int r;

        if (arg.host) {
                fprintf(stderr, "cat reads the local configuration; it does not work with -H.\n");
                return EXIT_INVALID_ARGS;
        }
        if (berth_name_validate(name) < 0) {
                fprintf(stderr, "Invalid container name: %s\n", name);
                return EXIT_INVALID_ARGS;
        }
        r = berth_config_load(arg.config_dir, name, &cfg, &error);
        if (r == -ENOENT && !cfg) {
                fprintf(stderr, "No configuration for %s: %s/%s.conf does not exist.\n", name,
                        arg.config_dir ? arg.config_dir : BERTH_CONFIG_DIR, name);
                return EXIT_NOT_INSTALLED;
        }
        if (r < 0) {
                fprintf(stderr, "%s\n", error ? error->message : strerror(-r));
                return r == -ENOENT ? EXIT_NOT_INSTALLED : EXIT_NOT_CONFIGURED;
        }

        /* Stable sort by section keeps the order of assignments within one. */
        g_autoptr(GPtrArray) sorted = g_ptr_array_new();
        for (guint i = 0; i < cfg->sources->len; i++)
                g_ptr_array_add(sorted, cfg->sources->pdata[i]);
        g_ptr_array_sort(sorted, compare_sources);

        if (arg.json != JSON_OFF) {
                _cleanup_json_ JsonValue *o = json_object();
                JsonValue *files = json_array(), *keys = json_array(), *warnings = json_array();
                json_set(o, "name", json_string(cfg->name));
                if (cfg->path)
                        json_append(files, json_string(cfg->path));
                for (guint i = 0; cfg->dropins && i < cfg->dropins->len; i++)
                        json_append(files, json_string(cfg->dropins->pdata[i]));
                json_set(o, "files", files);
                for (guint i = 0; i < sorted->len; i++) {
                        const BerthConfigSource *s = sorted->pdata[i];
                        JsonValue *k = json_object();
                        json_set(k, "section", json_string(s->section));
                        json_set(k, "key", json_string(s->key));
                        json_set(k, "value", json_string(s->value));
                        json_set(k, "file", json_string(s->file));
                        json_append(keys, k);
                }
                json_set(o, "keys", keys);
                for (guint i = 0; cfg->warnings && i < cfg->warnings->len; i++)
                        json_append(warnings, json_string(cfg->warnings->pdata[i]));
                json_set(o, "warnings", warnings);
                json_print(stdout, o, arg.json);
                return EXIT_OK;
        }

        for (guint i = 0; cfg->warnings && i < cfg->warnings->len; i++)
                fprintf(stderr, "Warning: %s\n", (const char *) cfg->warnings->pdata[i]);

        pager_open();
        printf("%s# %s%s\n", ansi_grey(), cfg->path ? cfg->path : "(no file)", ansi_normal());
        for (guint i = 0; cfg->dropins && i < cfg->dropins->len; i++)
                printf("%s# %s%s\n", ansi_grey(), (const char *) cfg->dropins->pdata[i], ansi_normal());

        const char *section = NULL, *file = NULL;
        for (guint i = 0; i < sorted->len; i++) {
                const BerthConfigSource *s = sorted->pdata[i];
                if (!section || strcmp(section, s->section) != 0) {
                        printf("\n%s[%s]%s\n", ansi_highlight(), s->section, ansi_normal());
                        section = s->section;
                        file = NULL;
                }
                if (!file || strcmp(file, s->file) != 0) {
                        printf("%s# from %s%s\n", ansi_grey(), s->file, ansi_normal());
                        file = s->file;
                }
                printf("%s=%s\n", s->key, s->value);
        }
        return EXIT_OK;
}
