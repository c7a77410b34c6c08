/*
 * probe.c: runs file operations given on its command line inside one directory, then dies by SIGKILL. Run under
 * powerloss.so, it lets a test say exactly what was written and synced before a power loss and check what survived.
 *
 *   probe DIR OP...
 *
 * OPs (NAME is a file name inside DIR; a file is opened on first use with O_CREAT|O_WRONLY and stays open):
 *   write:NAME:TEXT          append TEXT with write(2)
 *   writev:NAME:TEXT         append TEXT with writev(2), in two pieces
 *   pwrite:NAME:OFFSET:TEXT  write TEXT at OFFSET with pwrite(2)
 *   fsync:NAME  fdatasync:NAME  close:NAME
 *   truncate:NAME:LENGTH     ftruncate(2)
 *   rename:FROM:TO  unlink:NAME  mkdir:NAME
 *   dirsync                  fsync(2) of DIR itself
 *   threads:N:COUNT          N threads, thread i appends COUNT records "i:k\n" to file t<i> and fdatasyncs after each
 *                            (the files are created and the directory synced before the threads start)
 *   stdio:NAME:TEXT          fopen(NAME, "w"), fputs TEXT, fflush, fsync(fileno), fclose
 *   exit                     exit normally instead of dying
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FILES 64

static const char *g_dir;
static char *g_names[MAX_FILES];
static int g_fds[MAX_FILES];
static int g_count;

static void fail(const char *what, const char *arg) {
    fprintf(stderr, "probe: %s %s: %m\n", what, arg);
    exit(2);
}

static void path_of(char *out, size_t size, const char *name) { snprintf(out, size, "%s/%s", g_dir, name); }

static int file(const char *name) {
    for (int i = 0; i < g_count; i++) {
        if (strcmp(g_names[i], name) == 0) {
            return g_fds[i];
        }
    }
    char path[4096];
    path_of(path, sizeof path, name);
    int fd = open(path, O_CREAT | O_WRONLY, 0644);
    if (fd < 0 || g_count == MAX_FILES) {
        fail("open", path);
    }
    g_names[g_count] = strdup(name);
    g_fds[g_count++] = fd;
    return fd;
}

static void forget(const char *name) {
    for (int i = 0; i < g_count; i++) {
        if (strcmp(g_names[i], name) == 0) {
            g_names[i] = g_names[--g_count];
            g_fds[i] = g_fds[g_count];
            return;
        }
    }
}

static char *field(char **rest) {
    char *start = *rest;
    char *colon = start ? strchr(start, ':') : NULL;
    if (colon) {
        *colon = 0;
        *rest = colon + 1;
    } else {
        *rest = NULL;
    }
    return start;
}

static void all(ssize_t done, size_t want, const char *what, const char *name) {
    if (done != (ssize_t)want) {
        fail(what, name);
    }
}

typedef struct worker {
    int index, count, fd;
} worker;

static void *work(void *arg) {
    worker *w = arg;
    off_t at = 0;
    for (int k = 0; k < w->count; k++) {
        char record[64];
        int n = snprintf(record, sizeof record, "%d:%d\n", w->index, k);
        /* Alternate the calls so both paths of the library run concurrently. */
        ssize_t done = (k % 2) ? pwrite(w->fd, record, (size_t)n, at) : write(w->fd, record, (size_t)n);
        all(done, (size_t)n, "threaded write", "");
        at += n;
        if ((k % 2) == 0) {
            lseek(w->fd, at, SEEK_SET);
        }
        if (fdatasync(w->fd) != 0) {
            fail("threaded fdatasync", "");
        }
        if ((k % 2) == 1) {
            lseek(w->fd, at, SEEK_SET);
        }
    }
    return NULL;
}

static void threads(int n, int count) {
    pthread_t ids[32];
    worker workers[32];
    if (n > 32) {
        n = 32;
    }
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "t%d", i);
        workers[i] = (worker){i, count, file(name)};
    }
    int dir = open(g_dir, O_RDONLY | O_DIRECTORY);
    if (dir < 0 || fsync(dir) != 0) {
        fail("dirsync", g_dir);
    }
    close(dir);
    for (int i = 0; i < n; i++) {
        pthread_create(&ids[i], NULL, work, &workers[i]);
    }
    for (int i = 0; i < n; i++) {
        pthread_join(ids[i], NULL);
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: probe DIR OP...\n");
        return 2;
    }
    g_dir = argv[1];
    for (int i = 2; i < argc; i++) {
        char *rest = argv[i];
        char *op = field(&rest);
        if (strcmp(op, "write") == 0 || strcmp(op, "writev") == 0) {
            char *name = field(&rest);
            const char *text = rest ? rest : "";
            size_t len = strlen(text);
            if (op[5] == 'v') {
                struct iovec parts[2] = {{(void *)text, len / 2}, {(void *)(text + len / 2), len - len / 2}};
                all(writev(file(name), parts, 2), len, "writev", name);
            } else {
                all(write(file(name), text, len), len, "write", name);
            }
        } else if (strcmp(op, "pwrite") == 0) {
            char *name = field(&rest);
            off_t offset = atoll(field(&rest));
            const char *text = rest ? rest : "";
            all(pwrite(file(name), text, strlen(text), offset), strlen(text), "pwrite", name);
        } else if (strcmp(op, "fsync") == 0 || strcmp(op, "fdatasync") == 0) {
            char *name = field(&rest);
            if ((op[1] == 's' ? fsync(file(name)) : fdatasync(file(name))) != 0) {
                fail(op, name);
            }
        } else if (strcmp(op, "close") == 0) {
            char *name = field(&rest);
            close(file(name));
            forget(name);
        } else if (strcmp(op, "truncate") == 0) {
            char *name = field(&rest);
            if (ftruncate(file(name), atoll(rest ? rest : "0")) != 0) {
                fail("ftruncate", name);
            }
        } else if (strcmp(op, "rename") == 0) {
            char from[4096], to[4096];
            path_of(from, sizeof from, field(&rest));
            path_of(to, sizeof to, rest ? rest : "");
            if (rename(from, to) != 0) {
                fail("rename", from);
            }
        } else if (strcmp(op, "unlink") == 0 || strcmp(op, "mkdir") == 0) {
            char path[4096];
            path_of(path, sizeof path, rest ? rest : "");
            if ((op[0] == 'u' ? unlink(path) : mkdir(path, 0755)) != 0) {
                fail(op, path);
            }
        } else if (strcmp(op, "dirsync") == 0) {
            int dir = open(g_dir, O_RDONLY | O_DIRECTORY);
            if (dir < 0 || fsync(dir) != 0) {
                fail("dirsync", g_dir);
            }
            close(dir);
        } else if (strcmp(op, "threads") == 0) {
            int n = atoi(field(&rest));
            threads(n, atoi(rest ? rest : "0"));
        } else if (strcmp(op, "stdio") == 0) {
            char path[4096];
            path_of(path, sizeof path, field(&rest));
            FILE *f = fopen(path, "w");
            if (!f || fputs(rest ? rest : "", f) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0) {
                fail("stdio", path);
            }
        } else if (strcmp(op, "exit") == 0) {
            return 0;
        } else {
            fprintf(stderr, "probe: unknown operation %s\n", op);
            return 2;
        }
    }
    fflush(stdout);
    raise(SIGKILL);
    return 3;
}
