# Mixed: multifunction root ports on pcie.0 (0x2.0/0x2.1), a switch under one
# of them with a multi-function device below a downstream port, an NVMe under
# the other root port, and a virtio RCiEP.
rp rp1 pcie.0 0x2.0 multifunction=on
rp rp2 pcie.0 0x2.1
sw sw1 rp1 2
nvme nvme1 sw1.d0 0x0.0 multifunction=on
dev virtio-net-pci,bus=sw1.d0,addr=0x0.1
dev e1000e,bus=sw1.d1
nvme nvme2 rp2
dev virtio-rng-pci,bus=pcie.0,addr=0x7
