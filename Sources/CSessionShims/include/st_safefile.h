#ifndef ST_SAFEFILE_H
#define ST_SAFEFILE_H

#include <sys/types.h>

/// What SafeFile (Sources/SessionCore/System/SafeFile.swift) needs and Swift's Glibc hides.

/// openat2(2) with RESOLVE_NO_SYMLINKS (Linux 5.6): no component of `path` may be a symlink.
/// -1 with errno ELOOP when one is, ENOSYS where the kernel has no openat2.
int st_openat2_nosymlinks(int dirfd, const char *path, int flags, unsigned int mode);
/// The O_PATH and O_TMPFILE flag values (_GNU_SOURCE only).
int st_o_path(void);
int st_o_tmpfile(void);
/// Gives an O_TMPFILE file the name `name` in `dirfd`: linkat(2) with AT_EMPTY_PATH (needs
/// CAP_DAC_READ_SEARCH), else through /proc/self/fd/N with AT_SYMLINK_FOLLOW. EEXIST when the
/// name is taken: the file is never put in place of another.
int st_link_tmpfile(int fd, int dirfd, const char *name);

#endif
