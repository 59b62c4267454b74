/*
 * eject for the wasmpc guest's initramfs (busybox-static has no eject applet): `eject [-t] [DEVICE]` opens the
 * tray of DEVICE (default /dev/sr0) with the CDROMEJECT ioctl, or closes it with CDROMCLOSETRAY (-t), as
 * util-linux's eject does. Built with `gcc -m32 -static` by `npm run images` (src/images/guest-tools.ts).
 */
#include <fcntl.h>
#include <linux/cdrom.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int eject_main(int argc, char **argv) {
	int close_tray = 0;
	const char *dev = "/dev/sr0";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-t") == 0) close_tray = 1;
		else if (argv[i][0] == '-') { fprintf(stderr, "usage: eject [-t] [DEVICE]\n"); return 2; }
		else dev = argv[i];
	}
	/* O_NONBLOCK: opening must not wait for (or fail for lack of) a medium. */
	int fd = open(dev, O_RDONLY | O_NONBLOCK);
	if (fd < 0) { perror(dev); return 1; }
	if (ioctl(fd, close_tray ? CDROMCLOSETRAY : CDROMEJECT) < 0) { perror(close_tray ? "CDROMCLOSETRAY" : "CDROMEJECT"); close(fd); return 1; }
	close(fd);
	return 0;
}
