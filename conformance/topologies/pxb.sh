# PCIe expander bridge (separate host bridge / root bus 0x20) with a root port + NVMe,
# versus an NVMe under a root port of pcie.0.
rp rp1 pcie.0 0x2
nvme nvme1 rp1
pxb pxb1 0x20
rp rp2 pxb1 0x0
nvme nvme2 rp2
