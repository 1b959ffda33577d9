# Two NVMe (CMB, p2pmem provider) under two different root ports of pcie.0:
# no common upstream device -> host bridge path (q35 MCH 8086:29c0, not allow-listed).
rp rp1 pcie.0 0x2
nvme nvme1 rp1
rp rp2 pcie.0 0x3
nvme nvme2 rp2
