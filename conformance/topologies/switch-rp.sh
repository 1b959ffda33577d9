# Switch under root port 1 vs. devices under root ports 2 and 3: mixes
# common-ancestor (switch) pairs with cross-root-port pairs.
rp rp1 pcie.0 0x2
sw sw1 rp1 2
nvme nvme1 sw1.d0
dev e1000e,bus=sw1.d1
rp rp2 pcie.0 0x3
nvme nvme2 rp2
rp rp3 pcie.0 0x4
dev virtio-net-pci,bus=rp3
