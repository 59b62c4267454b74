// The Differentiated System Description Table (ACPI 6.5 5.2.11.1) of this machine, built with the AML encoder.
// In ASL it reads:
//
//   Name (PICF, Zero)                                   // 0 = PIC mode until the OS calls \_PIC (5.8.1)
//   Method (_PIC, 1) { Store (Arg0, PICF) }
//   Name (_S0, Package () {0, 0, 0, 0})                 // 7.4.2: SLP_TYP values for PM1a_CNT and PM1b_CNT
//   Name (_S5, Package () {0, 0, 0, 0})
//   Scope (\_SB) {
//     Device (C000) { Name (_HID, "ACPI0007") Name (_UID, 0) }  ...one per CPU (8.4 "Declaring Processors")
//     Device (PCI0) {                                   // the host bridge (PNP0A03), bus 0
//       Name (_HID, EisaId ("PNP0A03")) Name (_BBN, 0) Name (_UID, 0)   // no _ADR: 6.1 "not both"
//       Name (_CRS, ResourceTemplate () { bus numbers, CF8 ports, I/O and memory windows })
//       Method (_PRT) { If (LEqual (PICF, Zero)) { Return (PRTP) } Else { Return (PRTA) } }   // 6.2.13
//       Name (PRTP, Package () { Package () {0xSSSSFFFF, pin, LNKx, 0}, ... })              // PIC mode
//       Name (PRTA, Package () { Package () {0xSSSSFFFF, pin, 0, GSI}, ... })               // APIC mode
//       Device (ISA) { Name (_ADR, 0x00010000)  COM1-4, RTC, PIC, PIT, keyboard, mouse }
//     }
//     Device (LNKA) ... (LNKD)                          // PCI interrupt links (6.2.13) with fixed ISA IRQs
//     Device (RES0) { PNP0C02: ECAM window, PM block, port 0x92 }
//   }
import { FirmwareConfigError, hex } from '../errors';
import { VGA_WINDOW, VGA_WINDOW_SIZE } from '../layout';
import {
  arg, device, eisaId, ifThen, integer, lEqual, method, name, orElse, pkg, ref, ret, scope, store, string, type Aml,
} from './aml';
import { COM_PORTS, ISA_BRIDGE_SLOT, PCI_GSI_BASE, PCI_LINK_PIC_IRQS, PM_BASE, PM_BLOCK_LEN, SLP_TYP_S0, SLP_TYP_S5, pciIntxLine } from './platform';
import { dwordMemory, io, irq, irqNoFlags, memory32Fixed, resourceTemplate, wordBusNumber, wordIo } from './resources';

export interface DsdtOptions {
  ncpus: number;
  /** The 32-bit window the host bridge forwards to PCI BARs. */
  pciMmio: { base: number; size: number };
  /** The ECAM window (MCFG) and the last bus it covers; reserved as a motherboard resource. */
  ecam: { base: number; endBus: number };
  /** How many of COM1-COM4 the machine has (default 4). */
  comPorts?: number;
}

const PCI_SLOTS = 32;
const PCI_PINS = 4;
/** _STA: present, enabled, shown in UI, functioning (6.3.7). */
const STA_PRESENT = 0x0f;
/** _STA for the interrupt links: present, enabled, functioning, not shown in UI. */
const STA_LINK = 0x0b;
/** _ADR of a PCI function: device in the high word, function in the low (6.1.1); 0xFFFF = all functions. */
const pciAdr = (slot: number, fn: number): number => ((slot << 16) | fn) >>> 0;
const LINKS = ['LNKA', 'LNKB', 'LNKC', 'LNKD'];

/** A device with a _HID EISA ID and fixed current resources. */
function isaDevice(path: string, hid: string, resources: number[][], uid?: number): Aml {
  return device(path,
    name('_HID', eisaId(hid)),
    ...(uid === undefined ? [] : [name('_UID', integer(uid))]),
    method('_STA', 0, false, ret(integer(STA_PRESENT))),
    name('_CRS', resourceTemplate(...resources)));
}

/** ISA devices behind the LPC bridge: the legacy chips at their classic ports (PNP IDs from the PnP ID list). */
function isaBridge(comPorts: number): Aml {
  return device('ISA',
    name('_ADR', integer(pciAdr(ISA_BRIDGE_SLOT, 0))),
    ...COM_PORTS.slice(0, comPorts).map((c, i) => isaDevice(`COM${i + 1}`, 'PNP0501', [io(c.base, c.base, 0x00, 8), irqNoFlags(c.irq)], i + 1)),
    isaDevice('RTC', 'PNP0B00', [io(0x70, 0x70, 0x01, 2), irqNoFlags(8)]),
    isaDevice('PIC', 'PNP0000', [io(0x20, 0x20, 0x01, 2), io(0xa0, 0xa0, 0x01, 2), io(0x4d0, 0x4d0, 0x01, 2), irqNoFlags(2)]),
    isaDevice('PIT', 'PNP0100', [io(0x40, 0x40, 0x01, 4), irqNoFlags(0)]),
    isaDevice('KBD', 'PNP0303', [io(0x60, 0x60, 0x01, 1), io(0x64, 0x64, 0x01, 1), irqNoFlags(1)]),
    isaDevice('MOU', 'PNP0F13', [irqNoFlags(12)]));
}

/** One _PRT entry (6.2.13): Address (slot, any function), Pin, Source, Source Index. */
function prtEntry(slot: number, pin: number, source: Aml, index: number): Aml {
  return pkg(integer(pciAdr(slot, 0xffff)), integer(pin), source, integer(index));
}

function routingTables(): Aml[] {
  const pic: Aml[] = [];
  const apic: Aml[] = [];
  for (let slot = 0; slot < PCI_SLOTS; slot++) {
    for (let pin = 0; pin < PCI_PINS; pin++) {
      const line = pciIntxLine(slot, pin);
      pic.push(prtEntry(slot, pin, ref(LINKS[line]!), 0));
      apic.push(prtEntry(slot, pin, integer(0), PCI_GSI_BASE + line));
    }
  }
  return [
    method('_PRT', 0, false, ifThen(lEqual(ref('PICF'), integer(0)), ret(ref('PRTP'))), orElse(ret(ref('PRTA')))),
    name('PRTP', pkg(...pic)),
    name('PRTA', pkg(...apic)),
  ];
}

/** 6.2.13 interrupt link devices (PNP0C0F) wired to one level-triggered, active-low, shareable ISA IRQ each. */
function interruptLink(index: number): Aml {
  const irqTemplate = resourceTemplate(irq({ edge: false, activeLow: true, shared: true }, PCI_LINK_PIC_IRQS[index]!));
  return device(LINKS[index]!,
    name('_HID', eisaId('PNP0C0F')),
    name('_UID', integer(index + 1)),
    method('_STA', 0, false, ret(integer(STA_LINK))),
    name('_PRS', irqTemplate),
    name('_CRS', irqTemplate),
    method('_SRS', 1, false),
    method('_DIS', 0, false));
}

function hostBridge(options: DsdtOptions): Aml {
  const { base, size } = options.pciMmio;
  return device('PCI0',
    name('_HID', eisaId('PNP0A03')),
    name('_BBN', integer(0)),
    name('_UID', integer(0)),
    name('_CRS', resourceTemplate(
      wordBusNumber(0, options.ecam.endBus),
      io(0xcf8, 0xcf8, 0x01, 8),
      wordIo(0x0000, 0x0cf7),
      wordIo(0x0d00, 0xffff),
      dwordMemory(VGA_WINDOW, VGA_WINDOW + VGA_WINDOW_SIZE - 1, true),
      dwordMemory(base, base + size - 1, false))),
    ...routingTables(),
    isaBridge(options.comPorts ?? COM_PORTS.length));
}

/** The AML body of the DSDT (everything after the 36-byte table header). */
export function dsdtBody(options: DsdtOptions): Aml {
  const { ncpus, ecam, pciMmio } = options;
  if (!(pciMmio.size > 0 && pciMmio.base % 0x10_0000 === 0 && pciMmio.base + pciMmio.size <= 0x1_0000_0000)) {
    throw new FirmwareConfigError(`PCI MMIO window ${hex(pciMmio.base)} + ${hex(pciMmio.size)} must be 1 MiB aligned and end below 4 GiB`);
  }
  const comPorts = options.comPorts ?? COM_PORTS.length;
  if (comPorts < 0 || comPorts > COM_PORTS.length) throw new FirmwareConfigError(`the machine can have 0-4 COM ports, not ${comPorts}`);
  const cpus: Aml[] = [];
  for (let i = 0; i < ncpus; i++) {
    cpus.push(device(`C${i.toString(16).toUpperCase().padStart(3, '0')}`, name('_HID', string('ACPI0007')), name('_UID', integer(i))));
  }
  const sleep = (typ: number): Aml => pkg(integer(typ), integer(typ), integer(0), integer(0));
  return [
    ...name('PICF', integer(0)),
    ...method('_PIC', 1, false, store(arg(0), ref('PICF'))),
    ...name('_S0', sleep(SLP_TYP_S0)),
    ...name('_S5', sleep(SLP_TYP_S5)),
    ...scope('_SB',
      ...cpus,
      hostBridge(options),
      ...LINKS.map((_, i) => interruptLink(i)),
      device('RES0',
        name('_HID', eisaId('PNP0C02')),
        name('_UID', integer(1)),
        name('_CRS', resourceTemplate(
          memory32Fixed(ecam.base, (ecam.endBus + 1) << 20),
          io(PM_BASE, PM_BASE, 0x01, PM_BLOCK_LEN),
          io(0x92, 0x92, 0x01, 1))))),
  ];
}
