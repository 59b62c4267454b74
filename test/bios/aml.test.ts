import { describe, expect, it } from 'vitest';
import {
  arg, buffer, device, eisaId, eisaIdValue, ifThen, integer, lEqual, method, name, nameString, ones, orElse, pkg,
  pkgLength, ref, ret, scope, store, string,
} from '../../bios/acpi/aml';
import { dwordMemory, interrupt, io, irq, irqNoFlags, memory32Fixed, resourceTemplate, wordBusNumber, wordIo } from '../../bios/acpi/resources';
import { sdt } from '../../bios/acpi/tables';
import { FirmwareConfigError } from '../../bios/errors';
import { itWhen } from '../images/host-tools';
import { MISSING_IASL, compile, compileCounts } from './acpica';

describe('AML encodings (ACPI 6.5 20.2)', () => {
  it('encodes PkgLength in one byte up to 63 and counts its own bytes', () => {
    expect(pkgLength(0)).toEqual([0x01]);
    expect(pkgLength(62)).toEqual([0x3f]);
    // 63 content bytes + 2 length bytes = 65 = 0x41: lead 0b01 << 6 | 0x1, then 0x41 >> 4 = 0x04.
    expect(pkgLength(63)).toEqual([0x41, 0x04]);
    expect(pkgLength(0xffd)).toEqual([0x4f, 0xff]);
    expect(pkgLength(0xffe)).toEqual([0x81, 0x00, 0x01]);
    expect(pkgLength(0xffffc)).toEqual([0x8f, 0xff, 0xff]);
    expect(pkgLength(0xffffd)).toEqual([0xc1, 0x00, 0x00, 0x01]);
    expect(() => pkgLength(1 << 28)).toThrow(FirmwareConfigError);
  });

  it('picks Zero, One and the smallest prefixed constant for integers', () => {
    expect(integer(0)).toEqual([0x00]);
    expect(integer(1)).toEqual([0x01]);
    expect(integer(0xff)).toEqual([0x0a, 0xff]);
    expect(integer(0x100)).toEqual([0x0b, 0x00, 0x01]);
    expect(integer(0x1_0000)).toEqual([0x0c, 0x00, 0x00, 0x01, 0x00]);
    expect(integer(0x1_0000_0000)).toEqual([0x0e, 0, 0, 0, 0, 1, 0, 0, 0]);
    expect(integer(0xffff_ffff_ffff_ffffn)).toEqual([0x0e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(ones()).toEqual([0xff]);
    expect(() => integer(-1)).toThrow(FirmwareConfigError);
  });

  it('encodes name strings with root and parent prefixes, dual and multi name paths', () => {
    const seg = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
    expect(nameString('_SB')).toEqual(seg('_SB_'));
    expect(nameString('\\')).toEqual([0x5c, 0x00]);
    expect(nameString('\\_SB.PCI0')).toEqual([0x5c, 0x2e, ...seg('_SB_PCI0')]);
    expect(nameString('\\_SB.PCI0.ISA')).toEqual([0x5c, 0x2f, 3, ...seg('_SB_PCI0ISA_')]);
    expect(nameString('^^LNKA')).toEqual([0x5e, 0x5e, ...seg('LNKA')]);
    expect(() => nameString('toolong')).toThrow(FirmwareConfigError);
    expect(() => nameString('1ABC')).toThrow(FirmwareConfigError);
  });

  it('compresses EISA IDs as ASL EISAID() does', () => {
    expect(eisaIdValue('PNP0A03')).toBe(0x030ad041);
    expect(eisaIdValue('PNP0501')).toBe(0x0105d041);
    expect(() => eisaIdValue('pnp0a03')).toThrow(FirmwareConfigError);
  });
});

// One definition block written twice: in ASL for Debian's iasl, and with the builder. The AML must match.
const ASL_REFERENCE = `DefinitionBlock ("", "DSDT", 2, "WASMPC", "WASMPCDS", 1)
{
    Name (BYT0, 0x12)
    Name (WRD0, 0x1234)
    Name (DWD0, 0x12345678)
    Name (QWD0, 0x123456789A)
    Name (ZER0, Zero)
    Name (ONE0, One)
    Name (ONS0, Ones)
    Name (STR0, "wasmpc")
    Name (EIS0, EisaId ("PNP0A03"))
    Name (PKG0, Package () { One, 0x02, "x", Package () { Zero } })
    Name (BUF0, Buffer () { ${Array.from({ length: 70 }, (_, i) => i).join(', ')} })
    Name (BUF1, Buffer () { ${Array.from({ length: 5000 }, (_, i) => i & 0xff).join(', ')} })
    Name (RES0, ResourceTemplate ()
    {
        WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode, 0x0000, 0x0000, 0x00FF, 0x0000, 0x0100,,,)
        IO (Decode16, 0x03F8, 0x03F8, 0x00, 0x08,)
        IRQNoFlags () {4}
        IRQ (Level, ActiveLow, Shared,) {10}
        WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, 0x0000, 0x0D00, 0xFFFF, 0x0000, 0xF300,,,, TypeStatic, DenseTranslation)
        DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable, ReadWrite, 0x00000000, 0x000A0000, 0x000BFFFF, 0x00000000, 0x00020000,,,, AddressRangeMemory, TypeStatic)
        DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite, 0x00000000, 0xC0000000, 0xFEBFFFFF, 0x00000000, 0x3EC00000,,,, AddressRangeMemory, TypeStatic)
        Memory32Fixed (ReadWrite, 0xB0000000, 0x10000000,)
        Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive,,,) {9, 20}
    })
    Scope (\\_SB)
    {
        Device (DEV0)
        {
            Name (_HID, EisaId ("PNP0501"))
            Method (_STA, 0, NotSerialized) { Return (0x0F) }
            Method (MTH2, 2, Serialized) { Store (Arg1, \\_SB.DEV0.NAM1) Return (Arg0) }
            Name (NAM1, Zero)
            Name (\\_SB.DEV0.NAM2, Package () { LNKA, \\_SB.LNKA })
        }
        Device (LNKA) { Name (_HID, EisaId ("PNP0C0F")) Name (_UID, One) }
    }
    Method (TST0, 1, NotSerialized)
    {
        If (LEqual (Arg0, Zero)) { Return (One) }
        Else { Return (Ones) }
    }
}
`;

function builderReference(): number[] {
  return [
    ...name('BYT0', integer(0x12)),
    ...name('WRD0', integer(0x1234)),
    ...name('DWD0', integer(0x12345678)),
    ...name('QWD0', integer(0x123456789a)),
    ...name('ZER0', integer(0)),
    ...name('ONE0', integer(1)),
    ...name('ONS0', ones()),
    ...name('STR0', string('wasmpc')),
    ...name('EIS0', eisaId('PNP0A03')),
    ...name('PKG0', pkg(integer(1), integer(2), string('x'), pkg(integer(0)))),
    ...name('BUF0', buffer(Array.from({ length: 70 }, (_, i) => i))),
    ...name('BUF1', buffer(Array.from({ length: 5000 }, (_, i) => i & 0xff))),
    ...name('RES0', resourceTemplate(
      wordBusNumber(0, 0xff),
      io(0x3f8, 0x3f8, 0, 8),
      irqNoFlags(4),
      irq({ edge: false, activeLow: true, shared: true }, 10),
      wordIo(0x0d00, 0xffff),
      dwordMemory(0xa0000, 0xbffff, true),
      dwordMemory(0xc0000000, 0xfebfffff, false),
      memory32Fixed(0xb0000000, 0x10000000),
      interrupt({ edge: false, activeLow: false, shared: false }, 9, 20))),
    ...scope('\\_SB',
      device('DEV0',
        name('_HID', eisaId('PNP0501')),
        method('_STA', 0, false, ret(integer(0x0f))),
        method('MTH2', 2, true, store(arg(1), ref('\\_SB.DEV0.NAM1')), ret(arg(0))),
        name('NAM1', integer(0)),
        name('\\_SB.DEV0.NAM2', pkg(ref('LNKA'), ref('\\_SB.LNKA')))),
      device('LNKA', name('_HID', eisaId('PNP0C0F')), name('_UID', integer(1)))),
    ...method('TST0', 1, false, ifThen(lEqual(arg(0), integer(0)), ret(integer(1))), orElse(ret(ones()))),
  ];
}

describe('the AML builder against Debian\'s iasl', () => {
  itWhen([MISSING_IASL], 'produces byte for byte the AML that iasl compiles from the same ASL', () => {
    // -on: keep name paths as written (iasl would otherwise shorten \\_SB.DEV0.NAM1 to NAM1 inside DEV0).
    const ref = compile(ASL_REFERENCE, ['-on']);
    expect(compileCounts(ref.output), ref.output).toEqual({ errors: 0, warnings: 0, remarks: 0 });
    const ours = sdt('DSDT', 2, builderReference());
    expect(ours.length).toBe(ref.aml.length);
    // The headers differ in the compiler ID, its revision and so the checksum; the AML after them must not.
    expect(Buffer.from(ours.subarray(36)).toString('hex')).toBe(Buffer.from(ref.aml.subarray(36)).toString('hex'));
  });
});
