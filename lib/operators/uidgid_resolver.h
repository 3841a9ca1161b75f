/* The UidGidResolver operator (spec §2.4, §5.2): uid/gid fields → user and
 * group names from the host's passwd and group files.
 *
 * Data operator "UidGidResolver", priority 5, no params. For every field
 * tagged `type:gadget_uid` (`type:gadget_gid`) it adds a string field next to
 * it (same parent) named by the field's `uidgidresolver.target` annotation,
 * else the field name minus `_raw`, else `user` (`group`): `proc.creds.uid`
 * gets `proc.creds.user`. The new field and the source are hidden (the names
 * show in JSON, or in columns with --fields). Unknown ids give `uid:N` /
 * `gid:N`. Nothing is looked up while no sink requests the new field.
 *
 * Files: $HOST_ROOT/etc/passwd and $HOST_ROOT/etc/group, loaded once per run
 * and reloaded from the run's event loop when inotify reports a change. The
 * context variables "uidgidresolver.passwd" and "uidgidresolver.group"
 * (const char *, set before instantiate) override the paths, for tests. */
#ifndef SONDE_OPERATORS_UIDGID_RESOLVER_H
#define SONDE_OPERATORS_UIDGID_RESOLVER_H

#include <sonde/operator.h>

extern const struct sonde_operator uidgid_resolver_operator;

#endif
