/*
 * powerloss.c: an LD_PRELOAD library that keeps, next to a watched directory, the image that directory would have
 * on disk if the machine lost power now: only what was fsynced survives. See README.md for the model and its limits.
 *
 *   STRATA_POWERLOSS_DIR=<watched dir>  STRATA_POWERLOSS_SHADOW=<shadow dir>  LD_PRELOAD=<this .so> program ...
 *
 * The shadow holds:
 *   tree/<path>     the durable image of the watched directory: every durable name is a hard link to the inode file
 *                   that holds its durable bytes (so a later fsync of the inode updates every durable name of it);
 *   inodes/<id>     the durable bytes of one live inode (id: a counter, never the kernel's reusable inode number);
 *   owner           the pid of the process that keeps the shadow (child processes leave it alone).
 * A power loss is: SIGKILL the process, then replace the watched directory with a copy of tree/.
 *
 * Thread safety: one global mutex guards the tables; every write to a watched file takes it around the real write, so
 * a sync sees a consistent (dirty ranges, size) pair. A per-inode mutex serializes syncs of one file without blocking
 * writes to it while the real fsync runs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE 0x01
#endif
#ifndef FALLOC_FL_PUNCH_HOLE
#define FALLOC_FL_PUNCH_HOLE 0x02
#endif
#ifndef FALLOC_FL_ZERO_RANGE
#define FALLOC_FL_ZERO_RANGE 0x10
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

#define MAX_FDS (1 << 20)
#define BUCKETS 4096
#define MAX_RANGES 1024
#define TMP_NAME ".powerloss-tmp"

typedef struct range {
    uint64_t start, end;
} range;

typedef struct inode_rec {
    dev_t dev;
    ino_t ino;
    uint64_t id;          /* shadow/inodes/<id> */
    ino_t shadow_ino;     /* the shadow inode file's own inode number (to recognise tree links to it) */
    int alive;            /* in the table: the live inode still has a name */
    int open_fds;         /* tracked descriptors open on it */
    int whole;            /* some writes to it are invisible to us: copy the whole file at the next sync */
    int truncated;        /* shrunk since the last sync, to trunc_low at least */
    uint64_t trunc_low;
    range *dirty;         /* byte ranges written since the last sync, sorted, disjoint */
    size_t ndirty, cap;
    pthread_mutex_t sync_lock;
    struct inode_rec *next;
} inode_rec;

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);

static struct {
    openat_fn openat;
    int (*close)(int);
    ssize_t (*write)(int, const void *, size_t);
    ssize_t (*pwrite)(int, const void *, size_t, off_t);
    ssize_t (*writev)(int, const struct iovec *, int);
    ssize_t (*pwritev)(int, const struct iovec *, int, off_t);
    ssize_t (*pwritev2)(int, const struct iovec *, int, off_t, int);
    int (*ftruncate)(int, off_t);
    int (*truncate)(const char *, off_t);
    int (*fallocate)(int, int, off_t, off_t);
    int (*fsync)(int);
    int (*fdatasync)(int);
    void (*sync)(void);
    int (*syncfs)(int);
    int (*renameat2)(int, const char *, int, const char *, unsigned int);
    int (*unlinkat)(int, const char *, int);
    int (*dup)(int);
    int (*dup2)(int, int);
    int (*dup3)(int, int, int);
    FILE *(*fopen)(const char *, const char *);
    FILE *(*fdopen)(int, const char *);
    int (*fclose)(FILE *);
    ssize_t (*sendfile)(int, int, off_t *, size_t);
    ssize_t (*copy_file_range)(int, off_t *, int, off_t *, size_t, unsigned int);
} real;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_active;
static char g_root[PATH_MAX];
static size_t g_root_len;
static char g_shadow[PATH_MAX];
static uint64_t g_next_id = 1;
static inode_rec *g_table[BUCKETS];
static inode_rec **g_fds;   /* tracked descriptor -> inode record */
static unsigned char *g_fd_sync; /* descriptor opened with O_SYNC / O_DSYNC */
static int g_verbose;
/* STRATA_POWERLOSS_FAIL_SYNC=N: the N-th fsync/fdatasync of a watched file fails with EIO (see sync_file). */
static long g_fail_sync_at;
static long g_file_syncs;

static void resolve(void) {
    if (real.openat) {
        return;
    }
    real.close = dlsym(RTLD_NEXT, "close");
    real.write = dlsym(RTLD_NEXT, "write");
    real.pwrite = dlsym(RTLD_NEXT, "pwrite");
    real.writev = dlsym(RTLD_NEXT, "writev");
    real.pwritev = dlsym(RTLD_NEXT, "pwritev");
    real.pwritev2 = dlsym(RTLD_NEXT, "pwritev2");
    real.ftruncate = dlsym(RTLD_NEXT, "ftruncate");
    real.truncate = dlsym(RTLD_NEXT, "truncate");
    real.fallocate = dlsym(RTLD_NEXT, "fallocate");
    real.fsync = dlsym(RTLD_NEXT, "fsync");
    real.fdatasync = dlsym(RTLD_NEXT, "fdatasync");
    real.sync = dlsym(RTLD_NEXT, "sync");
    real.syncfs = dlsym(RTLD_NEXT, "syncfs");
    real.renameat2 = dlsym(RTLD_NEXT, "renameat2");
    real.unlinkat = dlsym(RTLD_NEXT, "unlinkat");
    real.dup = dlsym(RTLD_NEXT, "dup");
    real.dup2 = dlsym(RTLD_NEXT, "dup2");
    real.dup3 = dlsym(RTLD_NEXT, "dup3");
    real.fopen = dlsym(RTLD_NEXT, "fopen");
    real.fdopen = dlsym(RTLD_NEXT, "fdopen");
    real.fclose = dlsym(RTLD_NEXT, "fclose");
    real.sendfile = dlsym(RTLD_NEXT, "sendfile");
    real.copy_file_range = dlsym(RTLD_NEXT, "copy_file_range");
    __atomic_store_n(&real.openat, (openat_fn)dlsym(RTLD_NEXT, "openat"), __ATOMIC_RELEASE);
}

static void die(const char *what) {
    /* The shadow can no longer be trusted: a test relying on it must not pass. */
    char message[512];
    int n = snprintf(message, sizeof message, "powerloss: %s: %s; aborting\n", what, strerror(errno));
    if (n > 0) {
        real.write(2, message, (size_t)n);
    }
    abort();
}

/* ---------- paths ---------- */

/* Lexically normalises an absolute path in place (//, ., ..). */
static void normalize(char *path) {
    char out[PATH_MAX];
    size_t len = 0;
    const char *p = path;
    while (*p) {
        while (*p == '/') {
            p++;
        }
        if (!*p) {
            break;
        }
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 1 && p[0] == '.') {
            /* skip */
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            while (len > 0 && out[len - 1] != '/') {
                len--;
            }
            if (len > 0) {
                len--;
            }
        } else if (len + 1 + n < PATH_MAX) {
            out[len++] = '/';
            memcpy(out + len, p, n);
            len += n;
        }
        p += n;
    }
    if (len == 0) {
        out[len++] = '/';
    }
    out[len] = 0;
    memcpy(path, out, len + 1);
}

/* The absolute path of (dirfd, path), or 0 if it cannot be told. */
static int absolute(int dirfd, const char *path, char *out) {
    if (!path) {
        return 0;
    }
    if (path[0] == '/') {
        if (strlen(path) >= PATH_MAX) {
            return 0;
        }
        strcpy(out, path);
    } else {
        char base[PATH_MAX];
        if (dirfd == AT_FDCWD) {
            if (!getcwd(base, sizeof base)) {
                return 0;
            }
        } else {
            char link[64];
            snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
            ssize_t n = readlink(link, base, sizeof base - 1);
            if (n <= 0) {
                return 0;
            }
            base[n] = 0;
        }
        if (strlen(base) + 1 + strlen(path) >= PATH_MAX) {
            return 0;
        }
        snprintf(out, PATH_MAX, "%s/%s", base, path);
    }
    normalize(out);
    return 1;
}

/* The path of (dirfd, path) relative to the watched directory ("" for the directory itself), or NULL outside it. */
static const char *watched(int dirfd, const char *path, char *buffer) {
    if (!g_active || !absolute(dirfd, path, buffer)) {
        return NULL;
    }
    if (strncmp(buffer, g_root, g_root_len) != 0) {
        return NULL;
    }
    if (buffer[g_root_len] == 0) {
        return buffer + g_root_len;
    }
    if (buffer[g_root_len] != '/') {
        return NULL;
    }
    return buffer + g_root_len + 1;
}

static void shadow_path(char *out, const char *kind, const char *rel) {
    if (rel[0]) {
        snprintf(out, PATH_MAX, "%s/%s/%s", g_shadow, kind, rel);
    } else {
        snprintf(out, PATH_MAX, "%s/%s", g_shadow, kind);
    }
}

static void inode_path(char *out, uint64_t id) {
    snprintf(out, PATH_MAX, "%s/inodes/%llu", g_shadow, (unsigned long long)id);
}

/* ---------- inode records (caller holds g_lock) ---------- */

static inode_rec *lookup(dev_t dev, ino_t ino) {
    for (inode_rec *r = g_table[ino % BUCKETS]; r; r = r->next) {
        if (r->dev == dev && r->ino == ino) {
            return r;
        }
    }
    return NULL;
}

static void unlist(inode_rec *rec) {
    inode_rec **at = &g_table[rec->ino % BUCKETS];
    while (*at && *at != rec) {
        at = &(*at)->next;
    }
    if (*at) {
        *at = rec->next;
    }
    rec->alive = 0;
    rec->next = NULL;
}

static void release(inode_rec *rec) {
    char path[PATH_MAX];
    inode_path(path, rec->id);
    unlink(path); /* a durable name in tree/ keeps the bytes if the inode still has one */
    free(rec->dirty);
    pthread_mutex_destroy(&rec->sync_lock);
    free(rec);
}

/* A new record for a live inode whose durable content is empty (a new file), or unknown (whole: copy it all at the
 * next sync; until then a power loss leaves it empty). */
static inode_rec *remember(dev_t dev, ino_t ino, int whole) {
    inode_rec *old = lookup(dev, ino);
    if (old) {
        /* The kernel reused the number of an inode we saw die by a way we do not watch: forget the old one. */
        unlist(old);
        if (old->open_fds == 0) {
            release(old);
        }
    }
    inode_rec *rec = calloc(1, sizeof *rec);
    if (!rec) {
        die("out of memory");
    }
    rec->dev = dev;
    rec->ino = ino;
    rec->id = g_next_id++;
    rec->whole = whole;
    rec->alive = 1;
    pthread_mutex_init(&rec->sync_lock, NULL);
    char path[PATH_MAX];
    inode_path(path, rec->id);
    int fd = real.openat(AT_FDCWD, path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        die("cannot create a shadow inode file");
    }
    real.close(fd);
    rec->shadow_ino = st.st_ino;
    rec->next = g_table[ino % BUCKETS];
    g_table[ino % BUCKETS] = rec;
    return rec;
}

static void mark(inode_rec *rec, uint64_t start, uint64_t end) {
    if (end <= start) {
        return;
    }
    /* Fast path: appending to (or rewriting the end of) the last range. */
    if (rec->ndirty > 0 && start >= rec->dirty[rec->ndirty - 1].start && start <= rec->dirty[rec->ndirty - 1].end) {
        if (end > rec->dirty[rec->ndirty - 1].end) {
            rec->dirty[rec->ndirty - 1].end = end;
        }
        return;
    }
    if (rec->ndirty >= MAX_RANGES) {
        /* Too scattered to track: one covering range. Copying bytes not written since the last sync is harmless,
         * their live and durable values are equal. */
        uint64_t lo = rec->dirty[0].start < start ? rec->dirty[0].start : start;
        uint64_t hi = rec->dirty[rec->ndirty - 1].end > end ? rec->dirty[rec->ndirty - 1].end : end;
        rec->dirty[0].start = lo;
        rec->dirty[0].end = hi;
        rec->ndirty = 1;
        return;
    }
    if (rec->ndirty == rec->cap) {
        size_t cap = rec->cap ? rec->cap * 2 : 8;
        range *grown = realloc(rec->dirty, cap * sizeof *grown);
        if (!grown) {
            die("out of memory");
        }
        rec->dirty = grown;
        rec->cap = cap;
    }
    /* Insert in order, then merge neighbours that overlap or touch. */
    size_t i = rec->ndirty;
    while (i > 0 && rec->dirty[i - 1].start > start) {
        rec->dirty[i] = rec->dirty[i - 1];
        i--;
    }
    rec->dirty[i].start = start;
    rec->dirty[i].end = end;
    rec->ndirty++;
    size_t w = 0;
    for (size_t r = 1; r < rec->ndirty; r++) {
        if (rec->dirty[r].start <= rec->dirty[w].end) {
            if (rec->dirty[r].end > rec->dirty[w].end) {
                rec->dirty[w].end = rec->dirty[r].end;
            }
        } else {
            rec->dirty[++w] = rec->dirty[r];
        }
    }
    rec->ndirty = w + 1;
}

static inode_rec *tracked(int fd) {
    if (fd < 0 || fd >= MAX_FDS || !g_fds) {
        return NULL;
    }
    return __atomic_load_n(&g_fds[fd], __ATOMIC_ACQUIRE);
}

static void track(int fd, inode_rec *rec, int flags) {
    if (fd >= MAX_FDS) {
        errno = EMFILE;
        die("descriptor beyond the tracked range");
    }
    rec->open_fds++;
    g_fd_sync[fd] = (flags & (O_SYNC | O_DSYNC)) ? 1 : 0;
    __atomic_store_n(&g_fds[fd], rec, __ATOMIC_RELEASE);
}

static void untrack(int fd) {
    inode_rec *rec = tracked(fd);
    if (!rec) {
        return;
    }
    __atomic_store_n(&g_fds[fd], NULL, __ATOMIC_RELEASE);
    rec->open_fds--;
    if (!rec->alive && rec->open_fds == 0) {
        release(rec);
    }
}

/* The path (dirfd, path) is about to lose its name: if it is a watched regular file's last name, the inode dies. */
static inode_rec *doomed(int dirfd, const char *path) {
    struct stat st;
    if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
        return NULL;
    }
    return lookup(st.st_dev, st.st_ino);
}

static void bury(inode_rec *rec) {
    unlist(rec);
    if (rec->open_fds == 0) {
        release(rec);
    }
}

/* ---------- syncing ---------- */

static void copy_range(int from, int to, uint64_t start, uint64_t end) {
    static __thread char buffer[1 << 16];
    while (start < end) {
        size_t want = end - start < sizeof buffer ? (size_t)(end - start) : sizeof buffer;
        ssize_t n = pread(from, buffer, want, (off_t)start);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            die("cannot read a synced file");
        }
        if (n == 0) {
            return; /* shrunk under us (truncated concurrently): the size below stands */
        }
        ssize_t done = 0;
        while (done < n) {
            ssize_t w = real.pwrite(to, buffer + done, (size_t)(n - done), (off_t)(start + (uint64_t)done));
            if (w < 0 && errno == EINTR) {
                continue;
            }
            if (w <= 0) {
                die("cannot write a shadow inode file");
            }
            done += w;
        }
        start += (uint64_t)n;
    }
}

/* Makes what fd's inode holds durable in the shadow. `flush` is the real fsync or fdatasync (NULL: none, the caller
 * already made it durable). Returns flush's result. */
static int sync_file(int fd, inode_rec *rec, int (*flush)(int)) {
    pthread_mutex_lock(&rec->sync_lock);
    pthread_mutex_lock(&g_lock);
    /* Capture what is durable once the real flush returns: every write completed before it, at the size now. */
    struct stat st;
    if (fstat(fd, &st) != 0) {
        pthread_mutex_unlock(&g_lock);
        pthread_mutex_unlock(&rec->sync_lock);
        return flush ? flush(fd) : 0;
    }
    uint64_t size = (uint64_t)st.st_size;
    range *ranges = rec->dirty;
    size_t count = rec->ndirty;
    int whole = rec->whole;
    int truncated = rec->truncated;
    uint64_t trunc_low = rec->trunc_low;
    rec->dirty = NULL;
    rec->ndirty = rec->cap = 0;
    rec->whole = rec->truncated = 0;
    pthread_mutex_unlock(&g_lock);

    if (flush && g_fail_sync_at > 0 && __atomic_add_fetch(&g_file_syncs, 1, __ATOMIC_SEQ_CST) == g_fail_sync_at) {
        /* The injected disk fault. As Linux does after a failed write-back, the dirty pages count as clean now: what
         * was written since the last sync never reaches the durable image, and a later fsync "succeeds" without it
         * (so a program that retries a failed fsync and carries on loses data at the next power cut). */
        free(ranges);
        pthread_mutex_unlock(&rec->sync_lock);
        fprintf(stderr, "powerloss: injected EIO on sync number %ld (fd %d)\n", g_fail_sync_at, fd);
        errno = EIO;
        return -1;
    }

    int result = flush ? flush(fd) : 0;
    if (result != 0) {
        int saved = errno;
        pthread_mutex_lock(&g_lock); /* nothing became durable: put it all back */
        for (size_t i = 0; i < count; i++) {
            mark(rec, ranges[i].start, ranges[i].end);
        }
        rec->whole |= whole;
        if (truncated) {
            rec->trunc_low = rec->truncated && rec->trunc_low < trunc_low ? rec->trunc_low : trunc_low;
            rec->truncated = 1;
        }
        pthread_mutex_unlock(&g_lock);
        free(ranges);
        pthread_mutex_unlock(&rec->sync_lock);
        errno = saved;
        return result;
    }

    char path[PATH_MAX];
    inode_path(path, rec->id);
    int to = real.openat(AT_FDCWD, path, O_WRONLY | O_CLOEXEC, 0);
    if (to < 0) {
        die("cannot open a shadow inode file");
    }
    int from = fd;
    int reopened = -1;
    int mode = fcntl(fd, F_GETFL);
    if (mode < 0 || (mode & O_ACCMODE) == O_WRONLY) {
        char self[64];
        snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
        reopened = real.openat(AT_FDCWD, self, O_RDONLY | O_CLOEXEC, 0);
        if (reopened < 0) {
            die("cannot reopen a write-only file to read it");
        }
        from = reopened;
    }
    if (truncated && real.ftruncate(to, (off_t)trunc_low) != 0) {
        die("cannot truncate a shadow inode file");
    }
    if (whole) {
        copy_range(from, to, 0, size);
    } else {
        for (size_t i = 0; i < count; i++) {
            uint64_t end = ranges[i].end < size ? ranges[i].end : size;
            copy_range(from, to, ranges[i].start, end);
        }
    }
    if (real.ftruncate(to, (off_t)size) != 0) {
        die("cannot size a shadow inode file");
    }
    if (reopened >= 0) {
        real.close(reopened);
    }
    real.close(to);
    free(ranges);
    pthread_mutex_unlock(&rec->sync_lock);
    return 0;
}

static void remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) {
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        DIR *dir = opendir(path);
        if (dir) {
            struct dirent *e;
            char child[PATH_MAX];
            while ((e = readdir(dir))) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
                    continue;
                }
                snprintf(child, sizeof child, "%s/%s", path, e->d_name);
                remove_tree(child);
            }
            closedir(dir);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* Makes the entries of the watched directory `rel` durable as they are now: the shadow's tree/rel gets exactly the
 * live names, each a link to its inode's durable bytes. Caller holds g_lock. */
static void sync_directory(const char *rel) {
    char live[PATH_MAX], tree[PATH_MAX], entry[PATH_MAX], image[PATH_MAX], tmp[PATH_MAX], bytes[PATH_MAX];
    snprintf(live, sizeof live, "%s%s%s", g_root, rel[0] ? "/" : "", rel);
    shadow_path(tree, "tree", rel);
    mkdir(tree, 0755); /* a subdirectory's own name: see README (lenient for subdirectories) */
    snprintf(tmp, sizeof tmp, "%s/%s", tree, TMP_NAME);
    DIR *dir = opendir(live);
    if (!dir) {
        return;
    }
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        snprintf(entry, sizeof entry, "%s/%s", live, e->d_name);
        snprintf(image, sizeof image, "%s/%s", tree, e->d_name);
        struct stat st, durable;
        if (lstat(entry, &st) != 0) {
            continue; /* gone meanwhile */
        }
        int has = lstat(image, &durable) == 0;
        if (S_ISREG(st.st_mode)) {
            inode_rec *rec = lookup(st.st_dev, st.st_ino);
            if (!rec) {
                rec = remember(st.st_dev, st.st_ino, st.st_size > 0); /* made by a way we do not watch */
            }
            if (has && S_ISREG(durable.st_mode) && durable.st_ino == rec->shadow_ino) {
                continue;
            }
            if (has && S_ISDIR(durable.st_mode)) {
                remove_tree(image);
            }
            inode_path(bytes, rec->id);
            unlink(tmp);
            if (link(bytes, tmp) != 0 || rename(tmp, image) != 0) {
                die("cannot link a durable name");
            }
        } else if (S_ISDIR(st.st_mode)) {
            if (has && !S_ISDIR(durable.st_mode)) {
                unlink(image);
                has = 0;
            }
            if (!has && mkdir(image, 0755) != 0) {
                die("cannot make a durable directory");
            }
        } else if (S_ISLNK(st.st_mode)) {
            char target[PATH_MAX];
            ssize_t n = readlink(entry, target, sizeof target - 1);
            if (n >= 0) {
                target[n] = 0;
                remove_tree(image);
                if (symlink(target, image) != 0) {
                    die("cannot make a durable symlink");
                }
            }
        }
    }
    closedir(dir);
    /* Durable names the live directory no longer has are gone now. */
    dir = opendir(tree);
    if (!dir) {
        return;
    }
    while ((e = readdir(dir))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        snprintf(entry, sizeof entry, "%s/%s", live, e->d_name);
        snprintf(image, sizeof image, "%s/%s", tree, e->d_name);
        struct stat st;
        if (strcmp(e->d_name, TMP_NAME) == 0 || lstat(entry, &st) != 0) {
            remove_tree(image);
        }
    }
    closedir(dir);
}

/* sync(2)/syncfs(2): everything under the watched directory becomes durable. Caller does not hold g_lock. */
static void sync_everything(const char *rel) {
    char live[PATH_MAX], entry[PATH_MAX];
    snprintf(live, sizeof live, "%s%s%s", g_root, rel[0] ? "/" : "", rel);
    pthread_mutex_lock(&g_lock);
    sync_directory(rel);
    pthread_mutex_unlock(&g_lock);
    DIR *dir = opendir(live);
    if (!dir) {
        return;
    }
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        snprintf(entry, sizeof entry, "%s/%s", live, e->d_name);
        struct stat st;
        if (lstat(entry, &st) != 0) {
            continue;
        }
        char child[PATH_MAX];
        snprintf(child, sizeof child, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        if (S_ISDIR(st.st_mode)) {
            sync_everything(child);
        } else if (S_ISREG(st.st_mode)) {
            int fd = real.openat(AT_FDCWD, entry, O_RDONLY | O_CLOEXEC, 0);
            if (fd < 0) {
                continue;
            }
            pthread_mutex_lock(&g_lock);
            inode_rec *rec = lookup(st.st_dev, st.st_ino);
            if (rec) {
                rec->open_fds++; /* keeps it from being released while we copy */
            }
            pthread_mutex_unlock(&g_lock);
            if (rec) {
                sync_file(fd, rec, NULL);
                pthread_mutex_lock(&g_lock);
                rec->open_fds--;
                if (!rec->alive && rec->open_fds == 0) {
                    release(rec);
                }
                pthread_mutex_unlock(&g_lock);
            }
            real.close(fd);
        }
    }
    closedir(dir);
}

static int sync_descriptor(int fd, int (*flush)(int)) {
    resolve();
    if (!g_active) {
        return flush(fd);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        return flush(fd);
    }
    if (S_ISDIR(st.st_mode)) {
        int result = flush(fd);
        char link[64], path[PATH_MAX], buffer[PATH_MAX];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, path, sizeof path - 1);
        if (result == 0 && n > 0) {
            path[n] = 0;
            const char *rel = watched(AT_FDCWD, path, buffer);
            if (rel) {
                pthread_mutex_lock(&g_lock);
                sync_directory(rel);
                pthread_mutex_unlock(&g_lock);
            }
        }
        return result;
    }
    pthread_mutex_lock(&g_lock);
    inode_rec *rec = S_ISREG(st.st_mode) ? tracked(fd) : NULL;
    if (!rec && S_ISREG(st.st_mode)) {
        rec = lookup(st.st_dev, st.st_ino); /* a descriptor we do not track (e.g. dup'ed by fcntl) */
        if (rec) {
            rec->whole = 1; /* writes through it were invisible */
        }
    }
    if (rec) {
        rec->open_fds++;
    }
    pthread_mutex_unlock(&g_lock);
    if (!rec) {
        return flush(fd);
    }
    int result = sync_file(fd, rec, flush);
    pthread_mutex_lock(&g_lock);
    rec->open_fds--;
    if (!rec->alive && rec->open_fds == 0) {
        release(rec);
    }
    pthread_mutex_unlock(&g_lock);
    return result;
}

/* ---------- start ---------- */

static void copy_file(const char *from, const char *to) {
    int in = real.openat(AT_FDCWD, from, O_RDONLY | O_CLOEXEC, 0);
    int out = real.openat(AT_FDCWD, to, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
    if (in < 0 || out < 0) {
        die("cannot copy a file into the shadow");
    }
    struct stat st;
    fstat(in, &st);
    copy_range(in, out, 0, (uint64_t)st.st_size);
    real.close(in);
    real.close(out);
}

/* At start the watched directory is taken as durable (fresh, or just restored from a power loss): copy it. */
static void snapshot(const char *rel) {
    char live[PATH_MAX], tree[PATH_MAX], entry[PATH_MAX], image[PATH_MAX], bytes[PATH_MAX];
    snprintf(live, sizeof live, "%s%s%s", g_root, rel[0] ? "/" : "", rel);
    shadow_path(tree, "tree", rel);
    mkdir(tree, 0755);
    DIR *dir = opendir(live);
    if (!dir) {
        return;
    }
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        snprintf(entry, sizeof entry, "%s/%s", live, e->d_name);
        snprintf(image, sizeof image, "%s/%s", tree, e->d_name);
        struct stat st;
        if (lstat(entry, &st) != 0) {
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            char child[PATH_MAX];
            snprintf(child, sizeof child, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
            snapshot(child);
        } else if (S_ISREG(st.st_mode)) {
            inode_rec *rec = lookup(st.st_dev, st.st_ino);
            if (!rec) {
                rec = remember(st.st_dev, st.st_ino, 0);
                inode_path(bytes, rec->id);
                copy_file(entry, bytes);
            }
            inode_path(bytes, rec->id);
            if (link(bytes, image) != 0) {
                die("cannot link a durable name at start");
            }
        }
    }
    closedir(dir);
}

static int owner_alive(const char *owner) {
    char text[32] = {0};
    int fd = real.openat(AT_FDCWD, owner, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) {
        return 0;
    }
    ssize_t n = read(fd, text, sizeof text - 1);
    real.close(fd);
    if (n <= 0) {
        return 0;
    }
    pid_t pid = (pid_t)atol(text);
    return pid > 0 && pid != getpid() && (kill(pid, 0) == 0 || errno == EPERM);
}

/* A forked child (before it execs) must leave the shadow alone: closing an inherited descriptor there must not release
 * an inode file the parent still needs. Not run for vfork, whose child shares the parent's memory and only execs. */
static void forked_child(void) {
    g_active = 0;
    g_fds = NULL;
}

__attribute__((constructor)) static void start(void) {
    resolve();
    const char *root = getenv("STRATA_POWERLOSS_DIR");
    const char *shadow = getenv("STRATA_POWERLOSS_SHADOW");
    g_verbose = getenv("STRATA_POWERLOSS_VERBOSE") != NULL;
    const char *fail_sync = getenv("STRATA_POWERLOSS_FAIL_SYNC");
    g_fail_sync_at = fail_sync ? strtol(fail_sync, NULL, 10) : 0;
    if (!root || !root[0] || !shadow || !shadow[0]) {
        return;
    }
    char resolved[PATH_MAX];
    if (!absolute(AT_FDCWD, root, g_root) || !absolute(AT_FDCWD, shadow, g_shadow)) {
        return;
    }
    if (realpath(g_root, resolved)) {
        strcpy(g_root, resolved);
    }
    g_root_len = strlen(g_root);
    if (g_root_len > PATH_MAX / 4 || strlen(g_shadow) > PATH_MAX / 4) {
        errno = ENAMETOOLONG; /* leaves room under PATH_MAX for every path built from them */
        die("the watched or shadow directory's path is too long");
    }
    mkdir(g_shadow, 0755);
    if (realpath(g_shadow, resolved)) {
        strcpy(g_shadow, resolved);
    }
    size_t shadow_len = strlen(g_shadow);
    if ((strncmp(g_shadow, g_root, g_root_len) == 0 && (g_shadow[g_root_len] == '/' || g_shadow[g_root_len] == 0)) ||
        (strncmp(g_root, g_shadow, shadow_len) == 0 && g_root[shadow_len] == '/')) {
        errno = EINVAL;
        die("the shadow and the watched directory must not contain each other");
    }
    char owner[PATH_MAX], dir[PATH_MAX];
    snprintf(owner, sizeof owner, "%s/owner", g_shadow);
    if (owner_alive(owner)) {
        return; /* a child of the process that keeps the shadow: leave it alone */
    }
    shadow_path(dir, "tree", "");
    remove_tree(dir);
    shadow_path(dir, "inodes", "");
    remove_tree(dir);
    if (mkdir(dir, 0755) != 0) {
        die("cannot make the shadow's inode directory");
    }
    g_fds = calloc(MAX_FDS, sizeof *g_fds);
    g_fd_sync = calloc(MAX_FDS, 1);
    if (!g_fds || !g_fd_sync) {
        die("out of memory");
    }
    snapshot("");
    char text[32];
    int n = snprintf(text, sizeof text, "%d\n", (int)getpid());
    int fd = real.openat(AT_FDCWD, owner, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0 || real.write(fd, text, (size_t)n) != n) {
        die("cannot write the shadow's owner");
    }
    real.close(fd);
    pthread_atfork(NULL, NULL, forked_child);
    g_active = 1;
    if (g_verbose) {
        fprintf(stderr, "powerloss: watching %s, shadow %s\n", g_root, g_shadow);
    }
}

/* ---------- interposed calls ---------- */

static int after_open(int fd, int dirfd, const char *path, int flags, int existed) {
    if (fd < 0 || !g_active) {
        return fd;
    }
    char buffer[PATH_MAX];
    if (!watched(dirfd, path, buffer)) {
        return fd;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        return fd;
    }
    pthread_mutex_lock(&g_lock);
    inode_rec *rec = existed ? lookup(st.st_dev, st.st_ino) : NULL;
    if (!rec) {
        /* A file this call created starts with no durable bytes; one we never saw made is unknown. */
        rec = remember(st.st_dev, st.st_ino, existed && st.st_size > 0);
    } else if (flags & O_TRUNC) {
        rec->trunc_low = 0;
        rec->truncated = 1;
        rec->ndirty = 0;
    }
    track(fd, rec, flags);
    pthread_mutex_unlock(&g_lock);
    return fd;
}

static int existed_before(int dirfd, const char *path, int flags) {
    if (!g_active || !(flags & O_CREAT)) {
        return 1;
    }
    struct stat st;
    return fstatat(dirfd, path, &st, 0) == 0;
}

static int open_at(int dirfd, const char *path, int flags, mode_t mode) {
    resolve();
    if (!g_active) {
        return real.openat(dirfd, path, flags, mode);
    }
    int existed = existed_before(dirfd, path, flags);
    int fd = real.openat(dirfd, path, flags, mode);
    int saved = errno;
    after_open(fd, dirfd, path, flags, existed);
    errno = saved;
    return fd;
}

#define MODE_ARG(flags) \
    mode_t mode = 0; \
    if ((flags) & (O_CREAT | O_TMPFILE)) { \
        va_list ap; \
        va_start(ap, flags); \
        mode = (mode_t)va_arg(ap, int); \
        va_end(ap); \
    }

int open(const char *path, int flags, ...) { MODE_ARG(flags) return open_at(AT_FDCWD, path, flags, mode); }
int open64(const char *path, int flags, ...) { MODE_ARG(flags) return open_at(AT_FDCWD, path, flags, mode); }
int openat(int dirfd, const char *path, int flags, ...) { MODE_ARG(flags) return open_at(dirfd, path, flags, mode); }
int openat64(int dirfd, const char *path, int flags, ...) { MODE_ARG(flags) return open_at(dirfd, path, flags, mode); }
int __open_2(const char *path, int flags) { return open_at(AT_FDCWD, path, flags, 0); }
int __open64_2(const char *path, int flags) { return open_at(AT_FDCWD, path, flags, 0); }
int __openat_2(int dirfd, const char *path, int flags) { return open_at(dirfd, path, flags, 0); }
int __openat64_2(int dirfd, const char *path, int flags) { return open_at(dirfd, path, flags, 0); }
int creat(const char *path, mode_t mode) { return open_at(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode); }
int creat64(const char *path, mode_t mode) { return open_at(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode); }

int close(int fd) {
    resolve();
    if (tracked(fd)) {
        pthread_mutex_lock(&g_lock);
        untrack(fd);
        pthread_mutex_unlock(&g_lock);
    }
    return real.close(fd);
}

/* A write of `done` bytes ending at the descriptor's position (offset < 0) or starting at `offset`. Caller holds
 * g_lock. */
static void wrote(int fd, inode_rec *rec, ssize_t done, off_t offset) {
    if (done <= 0) {
        return;
    }
    if (offset < 0) {
        off_t end = lseek(fd, 0, SEEK_CUR);
        if (end < 0) {
            rec->whole = 1;
            return;
        }
        offset = end - done;
    }
    mark(rec, (uint64_t)offset, (uint64_t)offset + (uint64_t)done);
}

/* O_SYNC / O_DSYNC descriptors: the write is durable when it returns. */
static void written_through(int fd) {
    if (g_fd_sync[fd]) {
        sync_descriptor(fd, real.fsync);
    }
}

#define TRACKED_WRITE(call, offset) \
    resolve(); \
    inode_rec *rec = tracked(fd); \
    if (!rec) { \
        return call; \
    } \
    pthread_mutex_lock(&g_lock); \
    ssize_t done = call; \
    int saved = errno; \
    if (tracked(fd) == rec) { \
        wrote(fd, rec, done, offset); \
    } \
    pthread_mutex_unlock(&g_lock); \
    if (done > 0) { \
        written_through(fd); \
    } \
    errno = saved; \
    return done;

ssize_t write(int fd, const void *buf, size_t count) { TRACKED_WRITE(real.write(fd, buf, count), -1) }
ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset) { TRACKED_WRITE(real.pwrite(fd, buf, count, offset), offset) }
ssize_t pwrite64(int fd, const void *buf, size_t count, off_t offset) { TRACKED_WRITE(real.pwrite(fd, buf, count, offset), offset) }
ssize_t writev(int fd, const struct iovec *iov, int n) { TRACKED_WRITE(real.writev(fd, iov, n), -1) }
ssize_t pwritev(int fd, const struct iovec *iov, int n, off_t offset) { TRACKED_WRITE(real.pwritev(fd, iov, n, offset), offset) }
ssize_t pwritev64(int fd, const struct iovec *iov, int n, off_t offset) { TRACKED_WRITE(real.pwritev(fd, iov, n, offset), offset) }
ssize_t pwritev2(int fd, const struct iovec *iov, int n, off_t offset, int flags) { TRACKED_WRITE(real.pwritev2(fd, iov, n, offset, flags), offset) }
ssize_t pwritev64v2(int fd, const struct iovec *iov, int n, off_t offset, int flags) { TRACKED_WRITE(real.pwritev2(fd, iov, n, offset, flags), offset) }

/* Copies into a watched file: we do not see the bytes, so the next sync copies the whole file. */
ssize_t sendfile(int out, int in, off_t *offset, size_t count) {
    resolve();
    ssize_t done = real.sendfile(out, in, offset, count);
    inode_rec *rec = tracked(out);
    if (rec && done > 0) {
        pthread_mutex_lock(&g_lock);
        rec->whole = 1;
        pthread_mutex_unlock(&g_lock);
    }
    return done;
}
ssize_t sendfile64(int out, int in, off_t *offset, size_t count) { return sendfile(out, in, offset, count); }

ssize_t copy_file_range(int in, off_t *in_offset, int out, off_t *out_offset, size_t count, unsigned int flags) {
    resolve();
    ssize_t done = real.copy_file_range(in, in_offset, out, out_offset, count, flags);
    inode_rec *rec = tracked(out);
    if (rec && done > 0) {
        pthread_mutex_lock(&g_lock);
        rec->whole = 1;
        pthread_mutex_unlock(&g_lock);
    }
    return done;
}

static void shrunk(inode_rec *rec, uint64_t length) {
    if (!rec->truncated || length < rec->trunc_low) {
        rec->trunc_low = length;
    }
    rec->truncated = 1;
}

int ftruncate(int fd, off_t length) {
    resolve();
    inode_rec *rec = tracked(fd);
    if (!rec) {
        return real.ftruncate(fd, length);
    }
    pthread_mutex_lock(&g_lock);
    int result = real.ftruncate(fd, length);
    if (result == 0) {
        shrunk(rec, (uint64_t)length);
    }
    pthread_mutex_unlock(&g_lock);
    return result;
}
int ftruncate64(int fd, off_t length) { return ftruncate(fd, length); }

int truncate(const char *path, off_t length) {
    resolve();
    char buffer[PATH_MAX];
    if (!watched(AT_FDCWD, path, buffer)) {
        return real.truncate(path, length);
    }
    pthread_mutex_lock(&g_lock);
    struct stat st;
    inode_rec *rec = stat(path, &st) == 0 ? lookup(st.st_dev, st.st_ino) : NULL;
    int result = real.truncate(path, length);
    if (result == 0 && rec) {
        shrunk(rec, (uint64_t)length);
    }
    pthread_mutex_unlock(&g_lock);
    return result;
}
int truncate64(const char *path, off_t length) { return truncate(path, length); }

int fallocate(int fd, int mode, off_t offset, off_t length) {
    resolve();
    inode_rec *rec = tracked(fd);
    if (!rec) {
        return real.fallocate(fd, mode, offset, length);
    }
    pthread_mutex_lock(&g_lock);
    int result = real.fallocate(fd, mode, offset, length);
    if (result == 0) {
        if (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) {
            mark(rec, (uint64_t)offset, (uint64_t)offset + (uint64_t)length); /* bytes became zeros */
        } else if (mode & ~FALLOC_FL_KEEP_SIZE) {
            rec->whole = 1; /* collapse/insert range: bytes moved */
        }
        /* mode 0 / KEEP_SIZE: allocation only; a size change is taken from the file at the next sync. */
    }
    pthread_mutex_unlock(&g_lock);
    return result;
}
int fallocate64(int fd, int mode, off_t offset, off_t length) { return fallocate(fd, mode, offset, length); }

int fsync(int fd) {
    resolve();
    return sync_descriptor(fd, real.fsync);
}

int fdatasync(int fd) {
    resolve();
    return sync_descriptor(fd, real.fdatasync);
}

/* sync_file_range(2) starts or waits for write-back of dirty pages but makes nothing durable (no metadata, no disk
 * cache flush): not a sync here. It is not interposed. */

void sync(void) {
    resolve();
    real.sync();
    if (g_active) {
        sync_everything("");
    }
}

int syncfs(int fd) {
    resolve();
    int result = real.syncfs(fd);
    if (result == 0 && g_active) {
        sync_everything("");
    }
    return result;
}

static int rename_at(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags) {
    resolve();
    char buffer[PATH_MAX];
    if (!g_active || !watched(newdirfd, newpath, buffer)) {
        return real.renameat2(olddirfd, oldpath, newdirfd, newpath, flags);
    }
    pthread_mutex_lock(&g_lock);
    inode_rec *victim = NULL;
    if (!(flags & RENAME_EXCHANGE)) {
        struct stat from, to;
        if (fstatat(olddirfd, oldpath, &from, AT_SYMLINK_NOFOLLOW) == 0 &&
            fstatat(newdirfd, newpath, &to, AT_SYMLINK_NOFOLLOW) == 0 &&
            !(from.st_dev == to.st_dev && from.st_ino == to.st_ino)) {
            victim = doomed(newdirfd, newpath);
        }
    }
    int result = real.renameat2(olddirfd, oldpath, newdirfd, newpath, flags);
    int saved = errno;
    if (result == 0 && victim) {
        bury(victim);
    }
    pthread_mutex_unlock(&g_lock);
    errno = saved;
    return result;
}

int rename(const char *oldpath, const char *newpath) { return rename_at(AT_FDCWD, oldpath, AT_FDCWD, newpath, 0); }
int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath) {
    return rename_at(olddirfd, oldpath, newdirfd, newpath, 0);
}
int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags) {
    return rename_at(olddirfd, oldpath, newdirfd, newpath, flags);
}

int unlinkat(int dirfd, const char *path, int flags) {
    resolve();
    char buffer[PATH_MAX];
    if (!g_active || (flags & AT_REMOVEDIR) || !watched(dirfd, path, buffer)) {
        return real.unlinkat(dirfd, path, flags);
    }
    pthread_mutex_lock(&g_lock);
    inode_rec *victim = doomed(dirfd, path);
    int result = real.unlinkat(dirfd, path, flags);
    int saved = errno;
    if (result == 0 && victim) {
        bury(victim);
    }
    pthread_mutex_unlock(&g_lock);
    errno = saved;
    return result;
}

int unlink(const char *path) { return unlinkat(AT_FDCWD, path, 0); }

/* mkdir, rmdir, link and symlink change only names: nothing to record, the next sync of the parent directory takes
 * the names as they are. They are not interposed. */

int dup(int fd) {
    resolve();
    int copy = real.dup(fd);
    inode_rec *rec = tracked(fd);
    if (copy >= 0 && rec) {
        pthread_mutex_lock(&g_lock);
        if (tracked(fd) == rec) {
            track(copy, rec, g_fd_sync[fd] ? O_SYNC : 0);
        }
        pthread_mutex_unlock(&g_lock);
    }
    return copy;
}

static int dup_onto(int fd, int target, int result) {
    /* The common case (a forked child wiring its standard streams) takes no lock: a fork may copy it held. */
    if (result < 0 || !g_fds || fd == target || (!tracked(fd) && !tracked(target))) {
        return result;
    }
    pthread_mutex_lock(&g_lock);
    untrack(target);
    inode_rec *rec = tracked(fd);
    if (rec) {
        track(target, rec, g_fd_sync[fd] ? O_SYNC : 0);
    }
    pthread_mutex_unlock(&g_lock);
    return result;
}

int dup2(int fd, int target) {
    resolve();
    return dup_onto(fd, target, real.dup2(fd, target));
}

int dup3(int fd, int target, int flags) {
    resolve();
    return dup_onto(fd, target, real.dup3(fd, target, flags));
}

/* stdio: fwrite's write(2) calls happen inside libc where we cannot see them, so a watched file opened through stdio
 * is copied whole at each sync. */
static FILE *stdio_opened(FILE *file, const char *path, const char *mode, int existed) {
    if (!file) {
        return file;
    }
    int flags = strchr(mode, 'w') ? O_TRUNC : 0;
    int fd = fileno(file);
    after_open(fd, AT_FDCWD, path, flags, existed);
    inode_rec *rec = tracked(fd);
    if (rec) {
        pthread_mutex_lock(&g_lock);
        rec->whole = 1;
        pthread_mutex_unlock(&g_lock);
    }
    return file;
}

FILE *fopen(const char *path, const char *mode) {
    resolve();
    int existed = existed_before(AT_FDCWD, path, (mode[0] == 'w' || mode[0] == 'a') ? O_CREAT : 0);
    return stdio_opened(real.fopen(path, mode), path, mode, existed);
}

FILE *fopen64(const char *path, const char *mode) { return fopen(path, mode); }

FILE *fdopen(int fd, const char *mode) {
    resolve();
    FILE *file = real.fdopen(fd, mode);
    inode_rec *rec = tracked(fd);
    if (file && rec) {
        pthread_mutex_lock(&g_lock);
        rec->whole = 1;
        pthread_mutex_unlock(&g_lock);
    }
    return file;
}

int fclose(FILE *file) {
    resolve();
    int fd = file ? fileno(file) : -1;
    if (tracked(fd)) {
        pthread_mutex_lock(&g_lock);
        untrack(fd);
        pthread_mutex_unlock(&g_lock);
    }
    return real.fclose(file);
}
