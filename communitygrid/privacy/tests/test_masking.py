import pytest

from communitygrid.privacy.masking import mask


@pytest.mark.parametrize(
    ("kind", "plain", "masked"),
    [
        ("id_number", "11010519491231002X", "110***********002X"),
        ("id_number", "1234567", "*******"),
        ("id_number", "12345678", "1*****78"),
        ("id_number", "E12345678", "E******78"),
        ("id_number", "110105491231002", "110********1002"),
        ("phone", "13812345678", "138****5678"),
        ("phone", "02161234567", "021****4567"),
        ("phone", "123456", "******"),
        ("phone", "1234567", "***4567"),
        ("phone", "057112345", "*****2345"),
        ("address", "测试路1号2单元301室", "测试路1******"),
        ("address", "短", "短******"),
        ("name", "张三", "张*"),
        ("name", "欧阳娜娜", "欧***"),
        ("name", "Smith", "S***"),
        ("name", "王", "王"),
        ("health", "高血压，二级", "******"),
        ("anything-else", "x", "******"),
        ("phone", "", ""),
        ("id_number", "", ""),
    ],
)
def test_mask(kind, plain, masked):
    assert mask(kind, plain) == masked


@pytest.mark.parametrize("kind", ["id_number", "phone", "address", "health"])
def test_masked_form_never_contains_the_middle_of_the_value(kind):
    plain = "11010519491231002X" if kind != "address" else "浙江省杭州市西湖区文三路90号3幢2单元501室"
    masked = mask(kind, plain)
    assert masked != plain
    assert plain[4:-4] not in masked
