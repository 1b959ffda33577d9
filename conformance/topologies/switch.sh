# Root port -> X3130 switch with three downstream ports: NVMe, NVMe, e1000e.
# Common ancestor is the switch upstream port (no ACS in QEMU) -> dist 4.
rp rp1 pcie.0 0x2
sw sw1 rp1 3
nvme nvme1 sw1.d0
nvme nvme2 sw1.d1
dev e1000e,bus=sw1.d2
