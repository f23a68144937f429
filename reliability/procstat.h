/* SPDX-License-Identifier: Apache-2.0 */
/* What /proc says about this process and its descendants: the reliability
 * programs' leak and leftover oracles read nothing else. */
#ifndef PROCSTAT_H
#define PROCSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

int ps_self_tasks(void);
/* Open fds, not counting the one that reads the directory. */
int ps_self_fds(void);
/* Lines of /proc/self/maps. */
int ps_self_maps(void);
/* Resident set of this process, in KiB. */
long ps_self_rss_kib(void);

/* The state letter of /proc/PID/stat, 0 when there is no such process. */
char ps_state(pid_t pid);
/* The parent of pid, or -1. */
pid_t ps_ppid(pid_t pid);
/* /proc/PID/comm into buf (empty when gone). */
void ps_comm(pid_t pid, char *buf, size_t len);

/* Processes below root (not root itself), alive or zombie: how many, and
 * their threads in *tasks (if not NULL). Up to max pids go to out. */
int ps_descendants(pid_t root, pid_t *out, int max, int *tasks);

/* Rss and Pss of pid from smaps_rollup, in KiB; -1 when unreadable. */
int ps_rollup_kib(pid_t pid, long *rss, long *pss);
/* A "kB" field of /proc/PID/status (e.g. "VmPTE"), or -1. */
long ps_status_kib(pid_t pid, const char *field);
/* A field of /proc/meminfo in KiB (e.g. "KernelStack"), or -1. */
long ps_meminfo_kib(const char *field);

/* Reaps every child that has exited (this process is a subreaper). */
void ps_reap_exited(void);
long ps_now_us(void);

#endif /* PROCSTAT_H */
