/* oblique/oblique.h — umbrella header: include this one. */
#ifndef OBLIQUE_OBLIQUE_H
#define OBLIQUE_OBLIQUE_H
#include <oblique/common.h>
#include <oblique/error.h>
#include <oblique/thread.h>
#include <oblique/sched.h>
#include <oblique/rcu.h>
#include <oblique/cache.h>
#include <oblique/access.h>
#endif
