/* uid → user name and gid → group name tables read from passwd(5) and
 * group(5) files, kept fresh with inotify.
 *
 * The files are parsed here rather than through getpwuid/getgrgid: NSS may
 * call out to LDAP or systemd, which must not happen per event. Lines: leading
 * blanks ignored, empty and `#` lines skipped, fields split on `:`; field 1 is
 * the name, field 3 the id (decimal, 0..4294967295; anything else skips the
 * line, as do lines with fewer than 3 fields and empty names). When an id
 * appears twice the first line wins, as with getpwuid. A missing file is an
 * empty table.
 *
 * Refresh: the directories holding the files are watched with inotify for
 * the files being written, created, replaced (rename) or removed; the caller
 * puts name_cache_fd() into its event loop and calls
 * name_cache_handle_events() when it is readable. Single-threaded. */
#ifndef SONDE_HOST_NAME_CACHE_H
#define SONDE_HOST_NAME_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct id_names;

/* Parses passwd/group text (copied). NULL only when out of memory. */
struct id_names *id_names_parse(const char *text, size_t len);
/* Reads and parses a file; a missing or unreadable file gives an empty table
 * and *err (when non-NULL) the negative errno. NULL only when out of memory. */
struct id_names *id_names_load(const char *path, int *err);
void id_names_free(struct id_names *t);
size_t id_names_count(const struct id_names *t);
/* The name of `id`, or NULL. */
const char *id_names_get(const struct id_names *t, uint32_t id);

struct name_cache;

/* Loads both files and starts watching them (a failing watch only logs: the
 * names are then loaded once). NULL when out of memory. */
struct name_cache *name_cache_new(const char *passwd_path, const char *group_path);
void name_cache_free(struct name_cache *c);
/* The inotify descriptor to poll, or -1 when not watching. */
int name_cache_fd(const struct name_cache *c);
/* Drains pending inotify events and reloads the files they concern (each at
 * most once). Returns how many tables were reloaded, or a negative errno. */
int name_cache_handle_events(struct name_cache *c);
const char *name_cache_user(const struct name_cache *c, uint32_t uid);
const char *name_cache_group(const struct name_cache *c, uint32_t gid);

#endif
