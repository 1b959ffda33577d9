# Multi-function RCiEP on pcie.0 (NVMe 0x5.0 + virtio-net 0x5.1): functions on the
# root bus have no upstream bridge, so even two functions of one device go through
# the host bridge.
nvme nvme1 pcie.0 0x5.0 multifunction=on
dev virtio-net-pci,bus=pcie.0,addr=0x5.1
nvme nvme2 pcie.0 0x6
