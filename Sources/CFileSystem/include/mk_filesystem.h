#ifndef MODELKIT_FILESYSTEM_H
#define MODELKIT_FILESYSTEM_H

/// Atomically exchanges two existing paths (Linux renameat2 with RENAME_EXCHANGE, through the system call, which
/// glibc declares only under _GNU_SOURCE and so Swift does not see). Returns 0, or -1 with errno set; errno is
/// EINVAL or ENOSYS where the file system or kernel cannot exchange.
int mk_rename_exchange(const char *a, const char *b);
#endif
