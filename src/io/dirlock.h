/* One run at a time per output directory: two runs writing history.csv, the plots and the
 * checkpoint into the same --out would leave a mix of both. The lock is flock(2) on the
 * directory itself, so it leaves no file behind and the kernel drops it when the process
 * ends, however it ends (a killed run never leaves a stale lock). */
#ifndef FCNN_DIRLOCK_H
#define FCNN_DIRLOCK_H

/* Locks `dir` for this process; *fd holds the lock until fcnn_dir_unlock. FCNN_ERR_IO with
 * one line when another process holds it, or the directory cannot be opened. */
int fcnn_dir_lock(const char *dir, int *fd);
void fcnn_dir_unlock(int fd);

#endif
