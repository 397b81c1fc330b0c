/* broker_cmd.c - `edgemon broker config KIND FILE -c CONF`: validate and install a broker
 * file. Copyright (c) 2026 edgemon authors SPDX-License-Identifier: MIT
 *
 * Where the file goes, and what it means (CONTRACT section 1 says "next to the
 * config" and leaves the rest to us):
 *   - it is installed as <dir of CONF>/brokers.d/<KIND>.json, one file per KIND,
 *     so configuring a broker twice replaces it instead of adding a second one;
 *   - em_conf_load reads brokers.d/<KIND>.json for every KIND and uses it IN PLACE
 *     OF all publishers[] entries of type KIND in the main file (a broker file is
 *     the operator's latest word on that broker); publishers of other types stay;
 *   - the main file is never rewritten, so comments-by-convention, key order and
 *     the package's conffile handling (OpenWrt) stay intact;
 *   - the installed JSON has no `type` (the file name says it), always has a
 *     `name` (default: KIND), and absolute *_file paths, because the daemon does
 *     not run in the directory the command was typed in;
 *   - it is written to a temp file in brokers.d, fsynced, renamed over the old
 *     one and the directory fsynced, so a power cut leaves the old or the new
 *     file, never half of one (mosquitto persist__backup). It gets the mode
 *     (without exec bits) and, when we are root, the owner of the main config:
 *     it may hold a password, and the daemon user must still be able to read it.
 */
#include "broker_cmd.h"

#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "conf.h"

static const char *const file_keys[] = {"password_file", "token_file", "ca_file",
                                        "cert_file",     "key_file",   NULL};

/* The name an entry of JSON object `o` gets: its "name", or `def` when absent. */
static const char *entry_name(const cJSON *o, const char *def)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, "name");

    if (!n)
        return def;
    return cJSON_IsString(n) ? n->valuestring : NULL;
}

/*
 * A name used by a publisher of another type, in the main file or another
 * broker file, would make the next load fail; refuse it now. A main file that
 * does not parse is left to `edgemon check`: it is not this file's fault.
 */
static int name_clash(const char *kind, const char *name, const char *conf_path,
                      const char *text, size_t len, FILE *errout, const char *file)
{
    cJSON *root = cJSON_ParseWithLength(text, len);
    const cJSON *ps = root ? cJSON_GetObjectItemCaseSensitive(root, "publishers") : NULL;
    int clash = 0, i = 0;

    for (const cJSON *o = cJSON_IsArray(ps) ? ps->child : NULL; o && !clash;
         o = o->next, i++) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "type");
        const char *n = entry_name(o, NULL);
        if (!cJSON_IsString(t) || strcmp(t->valuestring, kind) == 0 || !n)
            continue;
        if (strcmp(n, name) == 0 && em_conf_pub_type_known(t->valuestring)) {
            fprintf(errout, "%s: name: '%s' is already used by publishers[%d] in '%s'\n",
                    file, name, i, conf_path);
            clash = 1;
        }
    }
    cJSON_Delete(root);
    for (const char *const *k = em_pub_types; *k && !clash; k++) {
        char path[PATH_MAX], err[256];
        size_t blen;
        char *btext;

        if (strcmp(*k, kind) == 0 ||
            em_conf_broker_path(conf_path, *k, path, sizeof path) < 0)
            continue;
        btext = em_read_file(path, &blen, err, sizeof err);
        if (!btext)
            continue;
        root = cJSON_ParseWithLength(btext, blen);
        free(btext);
        const char *n = root ? entry_name(root, *k) : NULL;
        if (n && strcmp(n, name) == 0) {
            fprintf(errout, "%s: name: '%s' is already used by '%s'\n", file, name, path);
            clash = 1;
        }
        cJSON_Delete(root);
    }
    return clash;
}

/* The JSON to install: no type, an explicit name, absolute *_file paths. */
static char *render(const char *kind, const char *text, size_t len, FILE *errout,
                    const char *file)
{
    cJSON *root = cJSON_ParseWithLength(text, len);
    char *out = NULL;

    if (!root)
        goto fail;
    cJSON_DeleteItemFromObjectCaseSensitive(root, "type");
    if (!cJSON_GetObjectItemCaseSensitive(root, "name") &&
        !cJSON_AddStringToObject(root, "name", kind))
        goto fail;
    for (const char *const *k = file_keys; *k; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, *k);
        char abs[PATH_MAX];
        if (!cJSON_IsString(v) || v->valuestring[0] == '/')
            continue;
        if (!realpath(v->valuestring, abs)) {
            fprintf(errout, "%s: %s: cannot resolve '%s': %s\n", file, *k, v->valuestring,
                    strerror(errno));
            cJSON_Delete(root);
            return NULL;
        }
        cJSON *nv = cJSON_CreateString(abs);
        if (!nv || !cJSON_ReplaceItemInObjectCaseSensitive(root, *k, nv)) {
            cJSON_Delete(nv);
            goto fail;
        }
    }
    out = cJSON_Print(root);
    if (!out)
        goto fail;
    cJSON_Delete(root);
    return out;
fail:
    fprintf(errout, "%s: out of memory\n", file);
    cJSON_Delete(root);
    return NULL;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Atomic replace of `dst` by `data` (temp file in the same directory, then rename). */
static int install(const char *dst, const char *data, const struct stat *like,
                   FILE *errout)
{
    char dir[PATH_MAX], tmp[PATH_MAX + 16];
    const char *slash = strrchr(dst, '/');
    int fd = -1, dfd;

    if (slash)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - dst), dst);
    else
        snprintf(dir, sizeof dir, ".");
    if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
        fprintf(errout, "cannot create '%s': %s\n", dir, strerror(errno));
        return -1;
    }
    snprintf(tmp, sizeof tmp, "%s.XXXXXX", dst);
    fd = mkstemp(tmp);
    if (fd < 0) {
        fprintf(errout, "cannot create a file in '%s': %s\n", dir, strerror(errno));
        return -1;
    }
    /* mkstemp made it 0600; widen to the config's mode, never exec, never world-write. */
    if (fchmod(fd, like ? (like->st_mode & 0664) | 0600 : 0640) < 0)
        goto fail;
    if (like && geteuid() == 0 && fchown(fd, like->st_uid, like->st_gid) < 0)
        goto fail;
    if (write_all(fd, data, strlen(data)) < 0 || write_all(fd, "\n", 1) < 0 ||
        fsync(fd) < 0)
        goto fail;
    if (close(fd) < 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, dst) < 0)
        goto fail;
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd); /* best effort: some filesystems refuse fsync on a directory */
        close(dfd);
    }
    return 0;
fail:
    fprintf(errout, "cannot write '%s': %s\n", dst, strerror(errno));
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return -1;
}

int em_broker_config(const char *kind, const char *file, const char *conf_path, FILE *out,
                     FILE *errout)
{
    struct em_errors errs;
    struct em_pub_conf pc;
    char err[EM_ERROR_LEN], dst[PATH_MAX];
    char *text = NULL, *ctext = NULL, *json = NULL;
    size_t len, clen;
    struct stat st;
    int rc = 1, r;

    memset(&pc, 0, sizeof pc);
    if (!kind || !em_conf_pub_type_known(kind)) {
        fprintf(errout,
                "unknown broker kind '%s' (expected mqtt, redis, kubemq, http, kafka or "
                "nats)\n",
                kind ? kind : "");
        return 2;
    }
    text = em_read_file(file, &len, err, sizeof err);
    if (!text) {
        fprintf(errout, "%s\n", err);
        goto done;
    }
    em_errors_init(&errs);
    r = em_conf_check_broker(kind, text, len, file, &errs, &pc);
    if (r < 0) {
        em_errors_print(&errs, errout);
        goto done;
    }
    ctext = em_read_file(conf_path, &clen, err, sizeof err);
    if (!ctext) {
        fprintf(errout, "%s\n", err);
        goto done;
    }
    if (stat(conf_path, &st) < 0) {
        fprintf(errout, "cannot stat '%s': %s\n", conf_path, strerror(errno));
        goto done;
    }
    if (name_clash(kind, pc.name, conf_path, ctext, clen, errout, file))
        goto done;
    if (em_conf_broker_path(conf_path, kind, dst, sizeof dst) < 0) {
        fprintf(errout, "config path '%s' is too long\n", conf_path);
        goto done;
    }
    json = render(kind, text, len, errout, file);
    if (!json || install(dst, json, &st, errout) < 0)
        goto done;
    fprintf(out, "successfully configured broker %s\n", kind);
    rc = 0;
done:
    em_conf_pub_release(&pc);
    free(text);
    free(ctext);
    free(json);
    return rc;
}
