# Root-complex integrated endpoints: NVMe and e1000e directly on pcie.0, plus
# an NVMe under a root port.
nvme nvme1 pcie.0 0x5
dev e1000e,bus=pcie.0,addr=0x6
rp rp1 pcie.0 0x2
nvme nvme2 rp1
