/* report.c — the checker's reports: what a user needs to find the bug without a
 * debugger.  Every report names the rule, the cache, the slot state and generation
 * (the header line written by _obq_report), then:
 *
 *   <what happened, one sentence, and why it is a bug>
 *     access: OBQ_PEEK, 4 bytes at 0x7f..10 (object 0x7f..00 +16, slot 3) by thread 2
 *     read-side section: no (nesting 0)         reuse mode: recycle
 *     generation: at load 3 (this thread's previous touch), now 4 — recycled since
 *   -- typesafe context --
 *     cache "conn" (typesafe, object 64 bytes, stride 64); slab 0x7f..0000, 1024 slots
 *     allocated by thread 2:   #0 lookup_insert+0x4f (prog+0x1a2b) ...
 *     freed by thread 3, 0 grace periods ago:   #0 conn_put+0x1c (prog+0x1c40) ...
 *     slab released: no
 *     access stack:   #0 reader+0x33 (prog+0x1b00) ...
 *     hint: <how to fix it>
 *
 * The "typesafe context" block is also what obq_describe_object() returns and what the
 * checker appends to ASan's own reports and to the allocator's bad-free reports.
 * Symbols come from the sanitizer symbolizer when one is linked (file:line), else from
 * dladdr(3) (exported symbols; "module+offset" always, for addr2line -e module). */
#define _GNU_SOURCE 1 /* dladdr, Dl_info */
#include "check_internal.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__GLIBC__) || defined(__APPLE__)
#include <execinfo.h>
#define HAVE_BACKTRACE 1
#endif

#if OBQ_ASAN || OBQ_TSAN
void __sanitizer_symbolize_pc(void *pc, const char *fmt, char *out_buf, size_t out_buf_size);
#endif

static const char *const acc_names[OBQ_ACC_KIND_COUNT] = {
	[OBQ_ACC_PEEK] = "OBQ_PEEK",
	[OBQ_ACC_REF_READ] = "obq_ref_read",
	[OBQ_ACC_PIN] = "obq_ref_get_not_zero",
	[OBQ_ACC_LOCK_OBLIQUE] = "obq_spin_lock_oblique",
	[OBQ_ACC_TRYLOCK_OBLIQUE] = "obq_spin_trylock_oblique",
	[OBQ_ACC_UNLOCK] = "obq_spin_unlock",
	[OBQ_ACC_READ_TRYLOCK] = "obq_read_trylock_oblique",
	[OBQ_ACC_READ_UNLOCK] = "obq_read_unlock",
	[OBQ_ACC_SEQ_READ] = "obq_read_seqcount_begin/retry",
	[OBQ_ACC_INCARNATION] = "obq_incarnation",
	[OBQ_ACC_LOCK_QUERY] = "obq_spin_is_locked",
	[OBQ_ACC_STORE] = "OBQ_STORE",
	[OBQ_ACC_REF_SET] = "obq_ref_set_release",
	[OBQ_ACC_REF_GET] = "obq_ref_get",
	[OBQ_ACC_REF_PUT] = "obq_ref_put",
	[OBQ_ACC_LOCK] = "obq_spin_lock",
	[OBQ_ACC_READ_LOCK] = "obq_read_lock",
	[OBQ_ACC_WRITE_LOCK] = "obq_write_lock",
	[OBQ_ACC_WRITE_UNLOCK] = "obq_write_unlock",
	[OBQ_ACC_SEQ_WRITE] = "obq_write_seqcount_begin/end",
	[OBQ_ACC_CLEAR] = "obq_clear_except_guards",
	[OBQ_ACC_INIT] = "obq_ref_init",
	[OBQ_ACC_LOCK_INIT] = "lock init (obq_spin_lock_init/obq_rwlock_init/obq_seqcount_init)",
};

const char *_obq_chk_access_name(int acc)
{
	if (acc == CHK_ACC_ALLOC)
		return "obq_cache_alloc";
	if (acc == CHK_ACC_FREE)
		return "obq_cache_free";
	if (acc < 0 || acc >= OBQ_ACC_KIND_COUNT || !acc_names[acc])
		return "access";
	return acc_names[acc];
}

#define RULE_HINT(kind, name, hint, anchor) [OBQ_ERR_##kind] = hint,
static const char *const hints[OBQ_ERR_KIND_COUNT] = {
	OBQ_RULES(RULE_HINT) /* every rule has its row: a hint or OBQ_RULE_NO_HINT */
};
#undef RULE_HINT

/* The hint line of a report (oblique/bits/rules.h), or NULL: OBQ_ERR_NONE, a tool's
 * kind, or a rule whose row says OBQ_RULE_NO_HINT. */
static const char *hint_of(enum obq_error_kind kind)
{
	return (unsigned)kind < OBQ_ERR_KIND_COUNT ? hints[kind] : NULL;
}

/* ---------------------------------------------------------------------------------
 * Symbols and stacks. */

#if defined(__linux__) && defined(__ELF__)
/* Static functions are not in the dynamic symbol table dladdr reads, and most frames
 * of a report are static helpers of the program.  So read the module's own .symtab
 * (kept unless the binary is stripped) once per module, on the first report.  The
 * module is the running program's own: ELF of the native class and byte order. */
#include <elf.h>
#include <fcntl.h>
#include <link.h> /* ElfW(): the native class's types, 32- or 64-bit */
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#define HAVE_ELF_SYMTAB 1
#if __ELF_NATIVE_CLASS == 64
#define OBQ_ELFCLASS ELFCLASS64
#else
#define OBQ_ELFCLASS ELFCLASS32
#endif

struct elf_fn {
	uintptr_t lo;     /* st_value (link-time address) */
	uintptr_t size;   /* st_size */
	uint32_t name;    /* offset in the module's string table copy */
};

struct elf_mod {
	uintptr_t fbase;      /* dli_fbase of the module (0: slot unused) */
	uintptr_t vaddr0;     /* lowest PT_LOAD p_vaddr (link-time address of fbase) */
	size_t n;             /* functions */
	struct elf_fn *fn;    /* FUNC symbols */
	char *str;            /* string table copy */
};

#define ELF_MODS 16
static struct elf_mod elf_mods[ELF_MODS];   /* under elf_lock */
static pthread_mutex_t elf_lock = PTHREAD_MUTEX_INITIALIZER;

static void elf_load(struct elf_mod *m, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	struct stat st;
	char *img = NULL;
	if (fstat(fd, &st) == 0 && st.st_size > (off_t)sizeof(ElfW(Ehdr)) && st.st_size < (1 << 30))
		img = malloc((size_t)st.st_size);
	size_t got = 0;
	while (img && got < (size_t)st.st_size) {
		ssize_t r = read(fd, img + got, (size_t)st.st_size - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (img == NULL || got != (size_t)st.st_size) {
		free(img);
		return;
	}
	const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)img;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != OBQ_ELFCLASS ||
	    eh->e_shoff == 0 || eh->e_shoff + (size_t)eh->e_shnum * sizeof(ElfW(Shdr)) > got) {
		free(img);
		return;
	}
	uintptr_t v0 = UINTPTR_MAX;
	for (unsigned i = 0; i < eh->e_phnum && eh->e_phoff + (i + 1) * sizeof(ElfW(Phdr)) <= got; i++) {
		const ElfW(Phdr) *ph = (const ElfW(Phdr) *)(img + eh->e_phoff) + i;
		if (ph->p_type == PT_LOAD && ph->p_vaddr < v0)
			v0 = ph->p_vaddr & ~(uintptr_t)0xfff;
	}
	m->vaddr0 = v0 == UINTPTR_MAX ? 0 : v0;
	const ElfW(Shdr) *sh = (const ElfW(Shdr) *)(img + eh->e_shoff);
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum)
			continue;
		const ElfW(Shdr) *ss = &sh[sh[i].sh_link];
		if (sh[i].sh_offset + sh[i].sh_size > got || ss->sh_offset + ss->sh_size > got)
			break;
		size_t nsym = sh[i].sh_size / sizeof(ElfW(Sym));
		const ElfW(Sym) *sym = (const ElfW(Sym) *)(img + sh[i].sh_offset);
		m->fn = calloc(nsym ? nsym : 1, sizeof *m->fn);
		m->str = malloc(ss->sh_size + 1);
		if (m->fn == NULL || m->str == NULL)
			break;
		memcpy(m->str, img + ss->sh_offset, ss->sh_size);
		m->str[ss->sh_size] = '\0';
		for (size_t k = 0; k < nsym; k++)
			if (ELF64_ST_TYPE(sym[k].st_info) == STT_FUNC /* = ELF32_ST_TYPE */ && sym[k].st_value &&
			    sym[k].st_name < ss->sh_size)
				m->fn[m->n++] = (struct elf_fn){ sym[k].st_value, sym[k].st_size,
								 sym[k].st_name };
		break;
	}
	free(img);
}

/* "name+0xoff" of the function containing pc in the module mapped at fbase. */
static int elf_lookup(const char *path, uintptr_t fbase, uintptr_t pc, char *buf, size_t len)
{
	int ok = 0;
	pthread_mutex_lock(&elf_lock);
	struct elf_mod *m = NULL;
	for (unsigned i = 0; i < ELF_MODS; i++) {
		if (elf_mods[i].fbase == fbase) {
			m = &elf_mods[i];
			break;
		}
		if (elf_mods[i].fbase == 0) {
			m = &elf_mods[i];
			m->fbase = fbase;
			elf_load(m, path);
			if (m->n == 0 && strcmp(path, "/proc/self/exe") != 0)
				elf_load(m, "/proc/self/exe"); /* main program named by argv[0] */
			break;
		}
	}
	if (m) {
		uintptr_t rel = pc - fbase + m->vaddr0;
		const struct elf_fn *best = NULL;
		for (size_t k = 0; k < m->n; k++) {
			const struct elf_fn *f = &m->fn[k];
			if (rel >= f->lo && (rel < f->lo + f->size || (f->size == 0 && rel == f->lo)))
				if (best == NULL || f->lo > best->lo)
					best = f;
		}
		if (best) {
			snprintf(buf, len, "%s+0x%lx", m->str + best->name,
				 (unsigned long)(rel - best->lo));
			ok = 1;
		}
	}
	pthread_mutex_unlock(&elf_lock);
	return ok;
}
#endif

/* ret: pc is a return address (look up pc - 1: the call instruction). */
static void symbolize(const void *pc, int ret, char *buf, size_t len)
{
	if (len == 0)
		return;
	buf[0] = '\0';
	if (pc == NULL) {
		snprintf(buf, len, "(unknown)");
		return;
	}
	size_t n = 0;
#if OBQ_ASAN || OBQ_TSAN
	/* %F function, %L file:line:col (the symbolizer subtracts one from return PCs). */
	char sym[256];
	sym[0] = '\0';
	__sanitizer_symbolize_pc((void *)((const char *)pc + (ret ? 0 : 1)), "%F %L", sym, sizeof sym);
	char *cut = strstr(sym, " (BuildId");
	if (cut)
		*cut = '\0';
	cut = strstr(sym, " (/"); /* no line info: the module follows, we print our own */
	if (cut)
		*cut = '\0';
	if (sym[0] && strstr(sym, "<null>") == NULL) {
		n = (size_t)snprintf(buf, len, "%s", strncmp(sym, "in ", 3) == 0 ? sym + 3 : sym);
		if (n >= len)
			return;
	}
#endif
	Dl_info di;
	if (dladdr(pc, &di) && di.dli_fname) {
		const char *mod = strrchr(di.dli_fname, '/');
		mod = mod ? mod + 1 : di.dli_fname;
		uintptr_t off = (uintptr_t)pc - (uintptr_t)di.dli_fbase;
#ifdef HAVE_ELF_SYMTAB
		/* Return addresses point after the call: look up pc - 1. */
		if (n == 0 && elf_lookup(di.dli_fname[0] ? di.dli_fname : "/proc/self/exe",
					 (uintptr_t)di.dli_fbase, (uintptr_t)pc - (ret ? 1 : 0), buf, len)) {
			n = strlen(buf);
			/* the +offset printed is from pc - 1: make it pc's */
			char *plus = strrchr(buf, '+');
			if (plus && ret)
				n = (size_t)(plus - buf) + (size_t)snprintf(plus, len - (size_t)(plus - buf),
					"+0x%lx", strtoul(plus + 3, NULL, 16) + 1);
		}
#endif
		if (n == 0 && di.dli_sname)
			n = (size_t)snprintf(buf, len, "%s+0x%lx", di.dli_sname,
					     (unsigned long)((uintptr_t)pc - (uintptr_t)di.dli_saddr));
		else if (n == 0)
			n = (size_t)snprintf(buf, len, "%p", pc);
		if (n < len)
			snprintf(buf + n, len - n, " (%s+0x%lx)", mod, (unsigned long)off);
		return;
	}
	if (n == 0)
		snprintf(buf, len, "%p", pc);
}

void _obq_chk_symbolize(const void *pc, char *buf, size_t len)
{
	symbolize(pc, 1, buf, len);
}

void _obq_chk_symbolize_fn(const void *fn, char *buf, size_t len)
{
	symbolize(fn, 0, buf, len);
}

/* Append up to `max` frames of pcs, one per line, indented. */
static size_t put_frames(char *buf, size_t len, void *const *pcs, unsigned n)
{
	size_t k = 0;
	for (unsigned i = 0; i < n && k < len; i++) {
		char sym[320];
		_obq_chk_symbolize(pcs[i], sym, sizeof sym);
		k += (size_t)snprintf(buf + k, len - k, "      #%u %s\n", i, sym);
	}
	return k < len ? k : len;
}

/* A frame of oblique itself — the allocator, the checker, the fuzz harness's runtime
 * (its API obq_h_*, its internals h_*, the scheduler's vt_entry that calls an
 * operation's body, the coroutine entry, the oblique adapter obl_*) — by symbol name,
 * or by source file when the symbolizer names one. */
static int internal_frame(const char *sym)
{
	static const char *const prefix[] = {"obq_", "_obq_", "h_", "vt_entry", "coro_", "uc_entry",
					     "obl_", NULL};
	for (unsigned i = 0; prefix[i]; i++)
		if (strncmp(sym, prefix[i], strlen(prefix[i])) == 0)
			return 1;
	return strstr(sym, "/targets/harness/") || strstr(sym, "/alloc/src/") ||
	       strstr(sym, "/sanitizers/");
}

/* An alloc / free / release stack, the user's frames first: leading frames of oblique
 * itself are left out (OBQ_CHECK_STACK_ALL=1 keeps them).  A stack that has no frame
 * of the user's own names the user function the runtime said was running
 * (obq_check_set_user_fn_hook) instead: its body freed in a tail call. */
static size_t put_stack(char *buf, size_t len, uint32_t id)
{
	void *pcs[CHK_STACK_MAX];
	unsigned n = _obq_chk_stack_get(id, pcs, CHK_STACK_MAX);
	if (n == 0)
		return (size_t)snprintf(buf, len, "      (no stack recorded)\n");
	const void *user = NULL;
	unsigned nf = n; /* return addresses before the NULL, user marker */
	for (unsigned i = 0; i < n; i++)
		if (pcs[i] == NULL) {
			nf = i;
			user = i + 1 < n ? pcs[i + 1] : NULL;
			break;
		}
	const char *env = getenv("OBQ_CHECK_STACK_ALL");
	int all = env && strcmp(env, "1") == 0;
	unsigned from = 0;
	if (!all) {
		char sym[320];
		while (from < nf) {
			_obq_chk_symbolize(pcs[from], sym, sizeof sym);
			if (!internal_frame(sym))
				break;
			from++;
		}
		if (from == nf && user == NULL)
			from = 0; /* nothing better to show */
	}
	size_t k = 0;
	if (from == nf && user) {
		char sym[320];
		_obq_chk_symbolize_fn(user, sym, sizeof sym);
		k += (size_t)snprintf(buf, len, "      #0 %s  (the running operation's body; it "
					       "made this call last, so no frame of it was left)\n", sym);
		if (k > len)
			k = len;
		return k;
	}
	k = put_frames(buf, len, pcs + from, nf - from);
	if (all && user && k < len) {
		char sym[320];
		_obq_chk_symbolize_fn(user, sym, sizeof sym);
		k += (size_t)snprintf(buf + k, len - k, "      (running: %s)\n", sym);
	}
	return k < len ? k : len;
}

#define PUT(...) do { if (k < len) k += (size_t)snprintf(buf + k, len - k, __VA_ARGS__); } while (0)

/* ---------------------------------------------------------------------------------
 * The context block. */

size_t _obq_chk_context(const void *p, const struct obq_slot_info *si_in, char *buf, size_t len)
{
	size_t k = 0;
	struct obq_slot_info si;
	if (len == 0)
		return 0;
	buf[0] = '\0';
	if (si_in)
		si = *si_in;
	else if (!_obq_slot_lookup(p, &si)) {
		PUT("  " CHK_CONTEXT_MARK "\n    %p is not in any oblique cache's slab\n", p);
		return k < len ? k : len - 1;
	}
	struct chk_slab *cs = si.check;
	PUT("  " CHK_CONTEXT_MARK "\n");
	if (cs == NULL) {
		PUT("    slot %zu of a slab of cache \"%s\" the checker does not track "
		    "(being made, or made while the checker was out of memory)\n", si.index,
		    si.cache ? obq_cache_name(si.cache) : "?");
		return k < len ? k : len - 1;
	}
	/* Relaxed loads throughout: shadow records (check_internal.h). */
	struct obq_cache *live = __atomic_load_n(&cs->cache, __ATOMIC_RELAXED);
	PUT("    cache \"%s\"%s (%s%s%s, object %zu bytes, stride %zu); slot %zu of slab %p "
	    "(%zu slots); state %s, generation %llu\n",
	    cs->name, live ? "" : " (destroyed)",
	    (cs->flags & OBQ_TYPESAFE_BY_RCU) ? "OBQ_TYPESAFE_BY_RCU" : "not typesafe",
	    cs->rcu_debug ? ", rcu-debug" : "", (cs->flags & OBQ_POISON) ? ", OBQ_POISON" : "",
	    cs->size, cs->stride, si.index, (void *)cs->mem, cs->nslots,
	    _obq_slot_state_name(si.state), (unsigned long long)si.generation);
	if (si.index < cs->nslots) {
		struct chk_slot *r = &cs->recs[si.index];
		uint32_t atid = __atomic_load_n(&r->alloc_tid, __ATOMIC_RELAXED);
		uint32_t ftid = __atomic_load_n(&r->free_tid, __ATOMIC_RELAXED);
		uint32_t fl = __atomic_load_n(&r->flags, __ATOMIC_RELAXED);
		unsigned long now = _obq_chk_gp_now();
		if (atid) {
			PUT("    allocated (generation %llu) by thread %u at:\n",
			    (unsigned long long)si.generation, atid);
			k += put_stack(buf + (k < len ? k : len), k < len ? len - k : 0,
				       __atomic_load_n(&r->alloc_stack, __ATOMIC_RELAXED));
		} else {
			PUT("    never allocated (fresh from its slab's ctor)\n");
		}
		if (ftid) {
			unsigned long fgp = (unsigned long)__atomic_load_n(&r->free_gp, __ATOMIC_RELAXED);
			PUT("    %sfreed by thread %u, %lu grace period%s ago (gp count %lu, now %lu) at:\n",
			    si.state == OBQ_SLOT_ALLOCATED ? "previously " : "", ftid, now - fgp,
			    now - fgp == 1 ? "" : "s", fgp, now);
			k += put_stack(buf + (k < len ? k : len), k < len ? len - k : 0,
				       __atomic_load_n(&r->free_stack, __ATOMIC_RELAXED));
			if (fl & CHK_SLOT_PENDING)
				PUT("    rcu-debug: its deferred free is still waiting for a grace period\n");
			if (fl & CHK_SLOT_GP_DONE)
				PUT("    rcu-debug: its deferred free completed (thread %u, gp count %lu): "
				    "reusable since\n", __atomic_load_n(&r->done_tid, __ATOMIC_RELAXED),
				    (unsigned long)__atomic_load_n(&r->done_gp, __ATOMIC_RELAXED));
		} else if (atid) {
			PUT("    not freed since\n");
		}
	}
	if (__atomic_load_n(&cs->released, __ATOMIC_RELAXED)) {
		PUT("    slab released (after its grace period) by thread %u at gp count %lu; held "
		    "in the checker's quarantine; release stack:\n",
		    __atomic_load_n(&cs->released_tid, __ATOMIC_RELAXED),
		    (unsigned long)__atomic_load_n(&cs->released_gp, __ATOMIC_RELAXED));
		k += put_stack(buf + (k < len ? k : len), k < len ? len - k : 0,
			       __atomic_load_n(&cs->released_stack, __ATOMIC_RELAXED));
	} else {
		PUT("    slab not released\n");
	}
	return k < len ? k : len - 1;
}

size_t _obq_check_describe(const void *p, char *buf, size_t len)
{
	return _obq_chk_context(p, NULL, buf, len);
}

/* ---------------------------------------------------------------------------------
 * Rule reports. */

void _obq_chk_report(enum obq_error_kind kind, const struct obq_slot_info *si, const void *addr,
		     size_t size, int acc, const void *site, const char *fmt, ...)
{
	struct obq_thread *t = obq_thread_current();
	struct obq_check_thread *ct = _obq_chk_thread(t);
	if (ct) {
		if (ct->in_check)
			return;
		ct->in_check++;
	}
	char buf[2900];
	size_t len = sizeof buf, k = 0;
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	k = w < 0 ? 0 : (size_t)w;
	PUT("\n");
	char sym[320];
	_obq_chk_symbolize(site, sym, sizeof sym);
	if (si) {
		PUT("    access: %s, %zu byte%s at %p (object %p +%zu, slot %zu) by thread %u at %s\n",
		    _obq_chk_access_name(acc), size, size == 1 ? "" : "s",
		    addr, si->object, (size_t)((const char *)addr - (const char *)si->object),
		    si->index, t->id, sym);
	} else {
		PUT("    access: %s, %zu bytes at %p by thread %u at %s\n",
		    _obq_chk_access_name(acc), size, addr, t->id, sym);
	}
	PUT("    read-side section: %s (nesting %u)   reuse mode: %s\n",
	    _obq_rcu_nesting(t) ? "yes" : "no", _obq_rcu_nesting(t),
	    obq_get_reuse_mode() == OBQ_REUSE_RCU_DEBUG ? "rcu-debug" : "recycle");
	if (si) {
		uint64_t g0;
		if (ct && _obq_chk_seen_get(ct, si, &g0))
			PUT("    generation: at load %llu (this thread's previous touch), now %llu%s\n",
			    (unsigned long long)g0, (unsigned long long)si->generation,
			    g0 != si->generation ? " — the slot was recycled since" :
			    si->state != OBQ_SLOT_ALLOCATED ? " — same incarnation, freed since" : "");
		else
			PUT("    generation: at load unknown (first touch by this thread), now %llu\n",
			    (unsigned long long)si->generation);
		if (k < len)
			k += _obq_chk_context(addr, si, buf + k, len - k);
	}
#if defined(HAVE_BACKTRACE) && !OBQ_SCHED_POINTS
	/* Not in the sim variant: virtual threads run on coroutine stacks, and the fuzz
	 * harness records reports by the thousand. */
	void *pcs[24];
	int got = backtrace(pcs, 24);
	int from = -1;
	for (int i = 0; i < got; i++)
		if (pcs[i] == site) {
			from = i;
			break;
		}
	if (from >= 0 && k < len) {
		PUT("    access stack:\n");
		unsigned n = (unsigned)(got - from);
		k += put_frames(buf + k, len - k, pcs + from, n > 8 ? 8 : n);
	}
#endif
	const char *hint = hint_of(kind);
	if (hint)
		PUT("    hint: %s\n", hint);
	if (k >= len)
		buf[len - 2] = '\n', buf[len - 1] = '\0';
	if (site || addr)
		_obq_chk_asan_note_access(addr, size, acc >= OBQ_ACC_STORE, site);
	_obq_report(kind, si ? (si->check ? ((struct chk_slab *)si->check)->name
					  : si->cache ? obq_cache_name(si->cache) : NULL) : NULL,
		    si ? si->object : addr, si ? _obq_slot_state_name(si->state) : NULL,
		    si ? si->generation : 0, "%s", buf);
	if (ct)
		ct->in_check--;
}
