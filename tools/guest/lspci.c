/*
 * lspci for the wasmpc guest's initramfs (busybox-static has no lspci applet): lists the PCI functions the
 * kernel found, from sysfs, one per line in the shape of pciutils' `lspci -nn`:
 *
 *   00:00.0 Host bridge [0600]: Device [8086:1237] (rev 02)
 *
 * Class names are the base/sub-class names of the PCI Code and Assignment Specification; vendor and device
 * names (pci.ids) are not carried, so devices print as numbers. Built with `gcc -m32 -static` by
 * `npm run images` (src/images/guest-tools.ts).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct { unsigned cls; const char *name; } classes[] = {
	{0x0100, "SCSI storage controller"}, {0x0101, "IDE interface"}, {0x0106, "SATA controller"},
	{0x0180, "Mass storage controller"}, {0x0200, "Ethernet controller"}, {0x0280, "Network controller"},
	{0x0300, "VGA compatible controller"}, {0x0380, "Display controller"}, {0x0401, "Multimedia audio controller"},
	{0x0500, "RAM memory"}, {0x0600, "Host bridge"}, {0x0601, "ISA bridge"}, {0x0604, "PCI bridge"},
	{0x0680, "Bridge"}, {0x0700, "Serial controller"}, {0x0880, "System peripheral"},
	{0x0c03, "USB controller"}, {0x0c05, "SMBus"}, {0x00ff, "Unclassified device"},
};

static const char *class_name(unsigned cls) {
	for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
		if (classes[i].cls == cls) return classes[i].name;
	return "Class";
}

/* Reads a sysfs attribute holding one hexadecimal number ("0x8086\n"); -1 when it cannot. */
static long read_hex(const char *dir, const char *attr) {
	char path[512];
	snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/%s", dir, attr);
	FILE *f = fopen(path, "r");
	if (!f) return -1;
	long v = -1;
	if (fscanf(f, "%lx", &v) != 1) v = -1;
	fclose(f);
	return v;
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

static int visible(const struct dirent *d) { return d->d_name[0] != '.'; }

int lspci_main(void) {
	struct dirent **list;
	int n = scandir("/sys/bus/pci/devices", &list, visible, by_name);
	if (n < 0) { perror("lspci: /sys/bus/pci/devices"); return 1; }
	for (int i = 0; i < n; i++) {
		const char *name = list[i]->d_name; /* domain:bus:slot.func, e.g. 0000:00:01.0 */
		long cls = read_hex(name, "class"), vendor = read_hex(name, "vendor"), device = read_hex(name, "device");
		long rev = read_hex(name, "revision");
		const char *bdf = strlen(name) > 5 && name[4] == ':' ? name + 5 : name;
		unsigned c = cls < 0 ? 0xffff : (unsigned)(cls >> 8);
		printf("%s %s [%04x]: Device [%04lx:%04lx]", bdf, class_name(c), c, vendor & 0xffff, device & 0xffff);
		if (rev > 0) printf(" (rev %02lx)", rev);
		putchar('\n');
		free(list[i]);
	}
	free(list);
	return 0;
}
