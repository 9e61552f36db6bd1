/* obq-trace — readable traces of fuzz inputs: decode, encode, replay, minimize.
 *
 *   obq-trace decode   [--target NAME] [--adapter NAME] INPUT
 *   obq-trace encode   TRACE [-o OUT]          (the target is the trace's "target" line)
 *   obq-trace replay   [--target NAME] [--adapter NAME] INPUT
 *   obq-trace minimize [--target NAME] [--adapter NAME] INPUT [-o OUT]
 *   obq-trace roundtrip --target NAME INPUT...
 *   (any command) --bin PATH: run this target binary instead of looking one up
 *   (any command) --adapter NAME (or --adapter=NAME): the allocator adapter (the binary's --adapter=NAME;
 *                 a trace's own "adapter" line selects it without this)
 *
 * Every deterministic target binary implements these commands for its own operations;
 * obq-trace finds the binary and runs it: in each directory of $OBQ_TARGET_DIR
 * (colon-separated), else beside obq-trace itself, it takes <name>-libfuzzer (the
 * sanitizer build oblique_add_fuzz_target makes: it reproduces what only ASan or UBSan
 * sees) or else <name>.  Without --target the name comes from the trace text, or from
 * the input's path (corpus/<name>/..., crash directories named after the target). */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int usage(void)
{
	fprintf(stderr,
		"usage: obq-trace decode   [--target NAME] [--adapter NAME] INPUT\n"
		"       obq-trace encode   TRACE [-o OUT]\n"
		"       obq-trace replay   [--target NAME] [--adapter NAME] INPUT\n"
		"       obq-trace minimize [--target NAME] [--adapter NAME] INPUT [-o OUT]\n"
		"       obq-trace roundtrip --target NAME [--adapter NAME] INPUT...\n"
		"       (any command) --bin PATH   use this target binary\n"
		"       (any command) --adapter NAME   the allocator adapter (default: the\n"
		"                     trace's \"adapter\" line, else OBQ_ADAPTER, else oblique)\n"
		"The target binary NAME-libfuzzer or NAME is looked up in each directory of\n"
		"$OBQ_TARGET_DIR (colon-separated), else beside obq-trace.\n");
	return 2;
}

static int valid_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

/* "target NAME" line of a text file. */
static int name_from_text(const char *path, char *name, size_t cap)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[512];
	int found = -1;
	for (int n = 0; n < 64 && fgets(line, sizeof line, f); n++) {
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "target", 6) == 0 && (p[6] == ' ' || p[6] == '\t')) {
			p += 6;
			while (*p == ' ' || *p == '\t')
				p++;
			size_t l = strcspn(p, " \t\r\n#");
			if (l < cap) {
				memcpy(name, p, l);
				name[l] = 0;
				found = valid_name(name) ? 0 : -1;
			}
			break;
		}
	}
	fclose(f);
	return found;
}

/* corpus/<name>/x, regressions/<name>/x, <name>-crashes/x, ... */
static int name_from_path(const char *path, char *name, size_t cap)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof buf, "%s", path);
	char *dir = dirname(buf);
	char *base = strrchr(dir, '/');
	base = base ? base + 1 : dir;
	size_t l = strcspn(base, "-.");
	if (l == 0 || l >= cap)
		return -1;
	memcpy(name, base, l);
	name[l] = 0;
	return valid_name(name) ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return usage();
	const char *cmd = argv[1];
	if (strcmp(cmd, "decode") && strcmp(cmd, "encode") && strcmp(cmd, "replay") &&
	    strcmp(cmd, "minimize") && strcmp(cmd, "roundtrip"))
		return usage();
	char name[128] = "";
	const char *explicit_bin = NULL;
	char adapter_opt[160] = "";
	char *rest[256];
	int nrest = 0;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--target") == 0 && i + 1 < argc) {
			snprintf(name, sizeof name, "%s", argv[++i]);
			if (!valid_name(name))
				return usage();
		} else if ((strcmp(argv[i], "--adapter") == 0 && i + 1 < argc) ||
			   strncmp(argv[i], "--adapter=", 10) == 0) {
			const char *v = argv[i][9] == '=' ? argv[i] + 10 : argv[++i];
			if (!*v || strlen(v) > 100 || strchr(v, '='))
				return usage();
			snprintf(adapter_opt, sizeof adapter_opt, "--adapter=%s", v);
		} else if (strcmp(argv[i], "--bin") == 0 && i + 1 < argc) {
			explicit_bin = argv[++i];
		} else if (nrest < 250) {
			rest[nrest++] = argv[i];
		}
	}
	if (nrest == 0)
		return usage();
	const char *input = NULL;
	for (int i = 0; i < nrest; i++)
		if (rest[i][0] != '-' && (i == 0 || strcmp(rest[i - 1], "-o") != 0)) {
			input = rest[i];
			break;
		}
	if (!input)
		return usage();
	char bin[PATH_MAX] = "";
	if (explicit_bin) {
		snprintf(bin, sizeof bin, "%s", explicit_bin);
		if (access(bin, X_OK) != 0) {
			fprintf(stderr, "obq-trace: --bin %s: %s\n", bin, strerror(errno));
			return 2;
		}
	} else {
		if (!name[0] && name_from_text(input, name, sizeof name) < 0 &&
		    name_from_path(input, name, sizeof name) < 0) {
			fprintf(stderr, "obq-trace: cannot tell the target of %s: use --target NAME "
					"or --bin PATH\n", input);
			return 2;
		}
		char dirs[PATH_MAX];
		const char *env = getenv("OBQ_TARGET_DIR");
		if (env && *env) {
			snprintf(dirs, sizeof dirs, "%s", env);
		} else {
			char self[PATH_MAX];
			ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
			if (n > 0)
				self[n] = 0;
			else
				snprintf(self, sizeof self, "%s", argv[0]);
			snprintf(dirs, sizeof dirs, "%s", dirname(self));
		}
		static const char *const suffixes[] = {"-libfuzzer", ""};
		char *save = NULL;
		for (char *d = strtok_r(dirs, ":", &save); d && !bin[0];
		     d = strtok_r(NULL, ":", &save))
			for (int k = 0; k < 2 && !bin[0]; k++) {
				char c[PATH_MAX];
				snprintf(c, sizeof c, "%s/%s%s", d, name, suffixes[k]);
				if (access(c, X_OK) == 0)
					snprintf(bin, sizeof bin, "%s", c);
			}
		if (!bin[0]) {
			fprintf(stderr, "obq-trace: no target binary %s or %s-libfuzzer in %s "
					"(set OBQ_TARGET_DIR, or use --bin PATH)\n", name, name,
				env && *env ? env : "the directory of obq-trace");
			return 2;
		}
	}
	char *av[260];
	int ac = 0;
	av[ac++] = bin;
	if (adapter_opt[0])
		av[ac++] = adapter_opt; /* an option of the binary: before the command */
	av[ac++] = (char *)cmd;
	for (int i = 0; i < nrest; i++)
		av[ac++] = rest[i];
	av[ac] = NULL;
	execv(bin, av);
	fprintf(stderr, "obq-trace: %s: %s\n", bin, strerror(errno));
	return 2;
}
