/*
 * version: doppel's release version, the one place it is written.
 */
#ifndef DOPPEL_VERSION_H
#define DOPPEL_VERSION_H

#define DOPPEL_VERSION "0.1.0"

#endif
