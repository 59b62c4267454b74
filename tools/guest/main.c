/*
 * The wasmpc guest tools: one static i386 binary (glibc's static runtime costs ~700 KB per binary) installed in
 * the initramfs as /bin/wasmpc-tools with one symlink per tool; it runs the tool its name was called by.
 */
#include <stdio.h>
#include <string.h>

int lspci_main(void);
int eject_main(int argc, char **argv);

int main(int argc, char **argv) {
	const char *name = strrchr(argv[0], '/');
	name = name ? name + 1 : argv[0];
	if (strcmp(name, "lspci") == 0) return lspci_main();
	if (strcmp(name, "eject") == 0) return eject_main(argc, argv);
	fprintf(stderr, "wasmpc-tools: call me as lspci or eject\n");
	return 2;
}
