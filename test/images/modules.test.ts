// Planning which modules the initramfs carries and their load order, on a small synthetic modules.dep.
import { describe, expect, it } from 'vitest';
import { moduleName, parseModulesBuiltin, parseModulesDep, planLoadOrder } from '../../src/images/modules';

// Shaped like the real file: each module lists every module it needs, directly or not.
const MODULES_DEP = `kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko
kernel/fs/jbd2/jbd2.ko:
kernel/fs/mbcache.ko:
kernel/lib/crc16.ko:
kernel/drivers/scsi/sd_mod.ko: kernel/block/t10-pi.ko kernel/lib/crc64-rocksoft.ko kernel/drivers/scsi/scsi_mod.ko kernel/drivers/scsi/scsi_common.ko kernel/lib/crc64.ko
kernel/block/t10-pi.ko: kernel/lib/crc64-rocksoft.ko kernel/lib/crc64.ko
kernel/lib/crc64-rocksoft.ko: kernel/lib/crc64.ko
kernel/lib/crc64.ko:
kernel/drivers/scsi/scsi_mod.ko: kernel/drivers/scsi/scsi_common.ko
kernel/drivers/scsi/scsi_common.ko:
kernel/drivers/scsi/sr_mod.ko: kernel/drivers/scsi/scsi_mod.ko kernel/drivers/scsi/scsi_common.ko kernel/drivers/cdrom/cdrom.ko
kernel/drivers/cdrom/cdrom.ko:
kernel/crypto/crc32c_generic.ko:
kernel/drivers/unrelated.ko: kernel/lib/crc16.ko
`;

function indexOf(order: readonly string[], name: string): number {
  return order.findIndex((path) => moduleName(path) === name);
}

describe('modules.dep closure', () => {
  const modules = parseModulesDep(MODULES_DEP);

  it('reads module names the way the kernel does, with "-" as "_"', () => {
    expect(moduleName('kernel/block/t10-pi.ko')).toBe('t10_pi');
    expect(modules.get('crc64_rocksoft')?.deps).toEqual(['kernel/lib/crc64.ko']);
  });

  it('carries the roots and everything they need, and nothing else', () => {
    const plan = planLoadOrder(modules, new Set(), ['ext4', 'sd_mod', 'sr_mod']);
    expect(plan.order.map(moduleName).sort()).toEqual(
      ['cdrom', 'crc16', 'crc64', 'crc64_rocksoft', 'ext4', 'jbd2', 'mbcache', 'scsi_common', 'scsi_mod', 'sd_mod', 'sr_mod', 't10_pi'],
    );
    expect(plan.builtin).toEqual([]);
  });

  it('orders every module after all of its dependencies, each module once', () => {
    const plan = planLoadOrder(modules, new Set(), ['sr_mod', 'sd_mod', 'ext4']);
    expect(new Set(plan.order).size).toBe(plan.order.length);
    for (const path of plan.order) {
      for (const dep of modules.get(moduleName(path))?.deps ?? []) {
        expect(indexOf(plan.order, moduleName(dep)), `${dep} before ${path}`).toBeLessThan(plan.order.indexOf(path));
      }
    }
  });

  it('accepts root names written with "-" or "_"', () => {
    expect(planLoadOrder(modules, new Set(), ['t10-pi']).order).toEqual(planLoadOrder(modules, new Set(), ['t10_pi']).order);
  });

  it('skips a root that is built into the kernel and reports it', () => {
    const builtin = parseModulesBuiltin('kernel/drivers/virtio/virtio_pci.ko\nkernel/drivers/virtio/virtio.ko\n');
    const plan = planLoadOrder(modules, builtin, ['virtio_pci', 'crc32c_generic']);
    expect(plan).toEqual({ order: ['kernel/crypto/crc32c_generic.ko'], builtin: ['virtio_pci'] });
  });

  it('names a root that is neither a module nor built in', () => {
    expect(() => planLoadOrder(modules, new Set(), ['floppy'])).toThrow('modules.dep names no module floppy (needed by the root list)');
  });

  it('names a dependency that modules.dep does not list', () => {
    const broken = parseModulesDep('kernel/a.ko: kernel/b.ko\n');
    expect(() => planLoadOrder(broken, new Set(), ['a'])).toThrow('modules.dep names no module b (needed by a)');
  });

  it('reports a dependency cycle instead of looping', () => {
    const cyclic = parseModulesDep('kernel/a.ko: kernel/b.ko\nkernel/b.ko: kernel/a.ko\n');
    expect(() => planLoadOrder(cyclic, new Set(), ['a'])).toThrow('dependency cycle: a -> b -> a');
  });

  it('refuses compressed modules, which busybox insmod cannot load', () => {
    expect(() => parseModulesDep('kernel/fs/ext4/ext4.ko.xz:\n')).toThrow(/not a plain \.ko/);
  });
});
