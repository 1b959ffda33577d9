# Nested switches: RP -> SW1 (2 DSPs) ; SW1.d1 -> SW2 (2 DSPs); devices at several depths.
rp rp1 pcie.0 0x2
sw sw1 rp1 2
nvme nvme1 sw1.d0
sw sw2 sw1.d1 2
nvme nvme2 sw2.d0
dev virtio-net-pci,bus=sw2.d1
