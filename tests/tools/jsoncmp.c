/* jsoncmp.c - compare an edgemon message with a simulator's expected values.
 * Copyright (c) 2026 edgemon authors
 * SPDX-License-Identifier: MIT
 *
 * usage: jsoncmp EXPECTED.json MESSAGE.json
 *   EXPECTED: {"dataset": "...", "values": {...}, "absent": [...]}, optionally
 *   "quality". Every expected value must be in the message's "values" (numbers
 *   within 1e-6 relative, strings equal, arrays and objects element by element);
 *   every "absent" key must not be. Prints each mismatch; exit 0 when none.
 *        jsoncmp --ignore K1,K2 EXPECTED.json MESSAGE.json   skip those expected keys
 * usage: jsoncmp --get KEY MESSAGE.json      print values.KEY (or a top-level KEY)
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *load(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "jsoncmp: cannot open '%s'\n", path);
        return NULL;
    }
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    cJSON *j = cJSON_Parse(buf);
    if (!j)
        fprintf(stderr, "jsoncmp: '%s' is not JSON\n", path);
    return j;
}

static int same(const cJSON *want, const cJSON *got, const char *path)
{
    if (!got) {
        printf("  %s: missing\n", path);
        return 0;
    }
    if (cJSON_IsNumber(want)) {
        double w = want->valuedouble, g = got->valuedouble;
        if (!cJSON_IsNumber(got) || fabs(w - g) > 1e-6 * (fabs(w) > 1 ? fabs(w) : 1)) {
            char *s = cJSON_PrintUnformatted(got);
            printf("  %s: got %s, want %.10g\n", path, s, w);
            free(s);
            return 0;
        }
        return 1;
    }
    if (cJSON_IsString(want)) {
        if (!cJSON_IsString(got) || strcmp(want->valuestring, got->valuestring) != 0) {
            char *s = cJSON_PrintUnformatted(got);
            printf("  %s: got %s, want \"%s\"\n", path, s, want->valuestring);
            free(s);
            return 0;
        }
        return 1;
    }
    if (cJSON_IsArray(want)) {
        int n = cJSON_GetArraySize(want);
        if (!cJSON_IsArray(got) || cJSON_GetArraySize(got) != n) {
            printf("  %s: got %d elements, want %d\n", path,
                   cJSON_IsArray(got) ? cJSON_GetArraySize(got) : -1, n);
            return 0;
        }
        int ok = 1;
        for (int i = 0; i < n; i++) {
            char sub[256];
            snprintf(sub, sizeof sub, "%s[%d]", path, i);
            ok &= same(cJSON_GetArrayItem(want, i), cJSON_GetArrayItem(got, i), sub);
        }
        return ok;
    }
    if (cJSON_IsObject(want)) {
        int ok = 1;
        const cJSON *it;
        cJSON_ArrayForEach(it, want)
        {
            char sub[256];
            snprintf(sub, sizeof sub, "%s.%s", path, it->string);
            ok &= same(it, cJSON_GetObjectItemCaseSensitive(got, it->string), sub);
        }
        return ok;
    }
    if (cJSON_IsBool(want) && cJSON_IsBool(got) && cJSON_IsTrue(want) == cJSON_IsTrue(got))
        return 1;
    printf("  %s: unexpected type\n", path);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--get") == 0) {
        cJSON *m = load(argv[3]);
        if (!m)
            return 2;
        cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(m, "values"), argv[2]);
        if (!v)
            v = cJSON_GetObjectItemCaseSensitive(m, argv[2]);
        if (!v) {
            cJSON_Delete(m);
            return 1;
        }
        if (cJSON_IsString(v)) {
            printf("%s\n", v->valuestring);
        } else {
            char *s = cJSON_PrintUnformatted(v);
            printf("%s\n", s);
            free(s);
        }
        cJSON_Delete(m);
        return 0;
    }
    const char *ignore = "";
    if (argc == 5 && strcmp(argv[1], "--ignore") == 0) {
        ignore = argv[2];
        argv += 2;
        argc -= 2;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: jsoncmp EXPECTED.json MESSAGE.json | --get KEY MESSAGE.json\n");
        return 2;
    }
    cJSON *e = load(argv[1]), *m = load(argv[2]);
    if (!e || !m)
        return 2;
    int ok = 1;
    const cJSON *ds = cJSON_GetObjectItem(e, "dataset");
    if (ds)
        ok &= same(ds, cJSON_GetObjectItem(m, "dataset"), "dataset");
    const cJSON *q = cJSON_GetObjectItem(e, "quality");
    if (q)
        ok &= same(q, cJSON_GetObjectItem(m, "quality"), "quality");
    const cJSON *values = cJSON_GetObjectItem(m, "values");
    cJSON *want = cJSON_GetObjectItem(e, "values");
    char list[512];
    snprintf(list, sizeof list, "%s", ignore);
    for (char *k = strtok(list, ","); k; k = strtok(NULL, ","))
        cJSON_DeleteItemFromObjectCaseSensitive(want, k);
    ok &= same(want, values, "values");
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItem(e, "absent"))
    {
        if (cJSON_GetObjectItemCaseSensitive(values, a->valuestring)) {
            printf("  values.%s: present, want absent\n", a->valuestring);
            ok = 0;
        }
    }
    cJSON_Delete(e);
    cJSON_Delete(m);
    return ok ? 0 : 1;
}
