/* oblique/bits/backends.h — THE table of RCU backends (included by oblique/common.h
 * and oblique/rcu.h; do not include directly).
 *
 * A backend is chosen at build time (OBQ_RCU_BACKEND, a number) so its read side
 * inlines.  This file is the one list of them, read by the C code and by CMake:
 *  - one line `#define OBQ_RCU_<NAME> <number>` per backend: the number the variant
 *    switch OBQ_RCU_BACKEND takes.  cmake/ObqLibrary.cmake reads these lines (regex
 *    `#define OBQ_RCU_([A-Z0-9]+) ([0-9]+)`) to map a BACKEND name (lower case) to its
 *    number, and builds the backend from alloc/src/rcu_common.c + rcu_<name>.c, plus
 *    alloc/src/rcu_<name>.cmake when it exists (its dependencies: see rcu_urcu.cmake);
 *  - one `#elif` per backend below: the compiled-in backend's name (obq_rcu_backend())
 *    and its read-side header.
 * What a backend must define is written in alloc/src/rcu_backend.h.
 *
 * Adding a backend: a line in each list below, its own files (bits/rcu_<name>.h,
 * alloc/src/rcu_<name>.c, optional rcu_<name>.cmake) and its tests. */
#ifndef OBLIQUE_BITS_BACKENDS_H
#define OBLIQUE_BITS_BACKENDS_H

#define OBQ_RCU_BUILTIN 1 /* C11 atomics + membarrier(2); the default */
#define OBQ_RCU_URCU 2    /* liburcu memb flavour */
#define OBQ_RCU_SIM 3     /* deterministic: grace periods advance only as scheduled steps */

#if !defined(OBQ_RCU_BACKEND)
/* oblique/common.h reports it */
#elif OBQ_RCU_BACKEND == OBQ_RCU_BUILTIN
#define OBQ_RCU_BACKEND_NAME "builtin"
#define OBQ_RCU_BACKEND_HEADER "oblique/bits/rcu_builtin.h"
#elif OBQ_RCU_BACKEND == OBQ_RCU_URCU
#define OBQ_RCU_BACKEND_NAME "urcu"
#define OBQ_RCU_BACKEND_HEADER "oblique/bits/rcu_urcu.h"
#elif OBQ_RCU_BACKEND == OBQ_RCU_SIM
#define OBQ_RCU_BACKEND_NAME "sim"
#define OBQ_RCU_BACKEND_HEADER "oblique/bits/rcu_sim.h"
#else
#error "unknown OBQ_RCU_BACKEND (oblique/bits/backends.h lists the backends)"
#endif

#endif /* OBLIQUE_BITS_BACKENDS_H */
